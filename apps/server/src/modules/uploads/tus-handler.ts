import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { API_PREFIX, type ErrorCode } from '@elizabeth/protocol';
import type { Locker, Server, Upload } from '@tus/server';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { toAppError } from '../../http/error-handler.js';
import { AppError } from '../../lib/errors.js';
import type { TusStoreBinding } from '../../storage/blob-storage.js';
import type { RoomAuth } from '../sessions/session-auth.js';
import type { UploadsService } from './uploads.service.js';

/** Upload ids in URLs: 128 random bits, hex. */
export const TUS_ID = /^[0-9a-f]{32}$/;

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'NOT_FOUND',
  412: 'VALIDATION_ERROR',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  460: 'VALIDATION_ERROR',
  // An extension the server does not offer (concatenation, deferred length): the request is wrong.
  501: 'VALIDATION_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** What a request carries into the tus hooks, which only see the Web `Request`. */
interface TusCall {
  auth?: RoomAuth;
  /** The upload collection's path, from the route's parameters (never the request target). */
  collection?: string;
  createdId?: string;
  finishedId?: string;
  failure?: AppError;
  /** What the data store threw while writing, before @tus/server made it a generic 500. */
  storeError?: unknown;
}

/** An error with the `status_code` and `body` that @tus/server turns into its response. */
const forTus = (error: AppError) =>
  Object.assign(new Error(error.message), { status_code: error.status, body: error.message });

/**
 * Wires `@tus/server` (core, creation, termination, expiration) behind Fastify routes. Fastify
 * authenticates first (onRequest), then the request goes to tus as a Web `Request` whose body
 * is the untouched Node stream, and tus's response comes back through Fastify, so the request
 * id, security headers and the error envelope apply to tus like to every other route.
 */
export class TusHandler {
  private server?: Promise<Server>;
  private readonly calls = new WeakMap<Request, TusCall>();
  private readonly current = new AsyncLocalStorage<TusCall>();

  constructor(
    private readonly deps: {
      uploads: UploadsService;
      /** The data store, created on the first tus request (its modules load only then). */
      binding: () => Promise<TusStoreBinding>;
      maxFileSize: number;
      publicUrl: string;
      /** Locks uploads across instances (Redis); @tus/server's in-process one by default. */
      locker?: Locker;
    },
  ) {}

  private async createServer(): Promise<Server> {
    const { deps } = this;
    const [{ Server }, binding] = await Promise.all([import('@tus/server'), deps.binding()]);
    // Tus-Extension lists what the store offers; deferred lengths are refused (onUploadCreate).
    binding.store.extensions = binding.store.extensions.filter((e) => e !== 'creation-defer-length');
    return new Server({
      path: `${API_PREFIX}/rooms/uploads`,
      datastore: this.recordingWrites(binding.store),
      ...(deps.locker ? { locker: deps.locker } : {}),
      maxSize: deps.maxFileSize,
      disableTerminationForFinishedUploads: true,
      namingFunction: () => binding.storeIdOf(randomBytes(16).toString('hex')),
      getFileIdFromRequest: (_req, lastPath) =>
        lastPath !== undefined && TUS_ID.test(lastPath) ? binding.storeIdOf(lastPath) : undefined,
      // From the route's parameters and `server.public_url` only: an absolute-form request
      // target (`POST http://other.example/… HTTP/1.1`) must not choose the host.
      generateUrl: (req, { id }) => {
        const collection = this.calls.get(req)?.collection ?? '';
        return `${deps.publicUrl.replace(/\/+$/, '')}${collection}/${binding.urlIdOf(id) ?? ''}`;
      },
      onUploadCreate: async (req, upload) => {
        const call = this.calls.get(req);
        if (!call?.auth) throw forTus(new AppError('AUTHENTICATION_FAILED', 'Missing access token'));
        if (upload.size === undefined) {
          throw this.fail(
            call,
            new AppError(
              'VALIDATION_ERROR',
              'Upload-Length is required (deferred lengths are not supported)',
            ),
          );
        }
        const urlId = binding.urlIdOf(upload.id)!;
        try {
          await deps.uploads.createTusReservation(call.auth, urlId, upload.size, upload.metadata ?? {});
        } catch (error) {
          throw this.fail(call, error);
        }
        call.createdId = urlId;
        return {};
      },
      onUploadFinish: async (req, upload: Upload) => {
        const call = this.calls.get(req) ?? {};
        const urlId = binding.urlIdOf(upload.id)!;
        try {
          await deps.uploads.finishTus(urlId, upload.offset);
        } catch (error) {
          throw this.fail(call, error);
        }
        call.finishedId = urlId;
        return {};
      },
    });
  }

  /**
   * The store, with its writes' failures remembered on the request they belong to: a full disk
   * must answer 507, and @tus/server reports every write failure as the same 500.
   */
  private recordingWrites(store: TusStoreBinding['store']): TusStoreBinding['store'] {
    const write = store.write.bind(store);
    store.write = async (...args: Parameters<typeof write>) => {
      try {
        return await write(...args);
      } catch (error) {
        const call = this.current.getStore();
        if (call) call.storeError = error;
        throw error;
      }
    };
    return store;
  }

  private fail(call: TusCall, error: unknown) {
    const appError =
      error instanceof AppError
        ? error
        : new AppError('INTERNAL_ERROR', 'Internal server error', { cause: error });
    call.failure = appError;
    return forTus(appError);
  }

  /**
   * Hands one authenticated request to tus and sends its answer through Fastify. `beforeReply`
   * runs after tus succeeded and before the client hears so (termination releases its quota
   * there, so a client that saw 204 also sees the bytes given back).
   */
  async handle(
    request: FastifyRequest,
    reply: FastifyReply,
    auth: RoomAuth | undefined,
    beforeReply?: () => Promise<void>,
  ): Promise<FastifyReply> {
    const raw = request.raw;
    const headers = new Headers();
    for (const [name, value] of Object.entries(raw.headers)) {
      if (value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const hasBody =
      request.method === 'PATCH' || (request.method === 'POST' && headers.get('content-type') !== null);
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers };
    if (hasBody) {
      init.body = Readable.toWeb(raw) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    // Only the path and query of the target: in absolute form it also names a host.
    const target = new URL(raw.url ?? '/', 'http://localhost');
    const web = new Request(`http://localhost${target.pathname}${target.search}`, init);
    // What srvx's Node adapter provides: @tus/server then aborts the write (keeping the bytes
    // already stored) the moment the client's connection drops, instead of when a lock times out.
    Object.defineProperty(web, 'runtime', { value: { name: 'node', node: { req: raw, res: reply.raw } } });
    const { name } = request.params as { name?: string };
    const call: TusCall = {
      ...(auth ? { auth } : {}),
      collection: `${API_PREFIX}/rooms/${encodeURIComponent(name ?? '')}/uploads`,
    };
    this.calls.set(web, call);

    this.server ??= this.createServer();
    const server = await this.server.catch((error: unknown) => {
      this.server = undefined;
      throw error;
    });
    const response = await this.current.run(call, () => server.handleWeb(web));
    const body = await response.text();
    if (hasBody && !raw.complete) {
      // tus stopped reading before the end (error, abort, lock handed over): a paused socket
      // would never see its client leave. Drain what is left and close the connection.
      reply.header('Connection', 'close');
      raw.resume();
    }
    if (request.method === 'POST' && call.createdId && response.status !== 201) {
      // Created the reservation but tus failed to create the upload: give the quota back.
      await this.deps.uploads.releaseTus(call.createdId);
    }
    if (call.finishedId) {
      // tus reads its metadata once more after the finish hook; it is garbage only now.
      await this.deps.uploads.dropTusMetadata(call.finishedId).catch(() => undefined);
    }
    const tusHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      // CORS belongs to the app's own configuration; lengths are Fastify's.
      if (name.startsWith('access-control-') || name === 'content-length' || name === 'connection') return;
      tusHeaders[name] = value;
    });
    if (response.status >= 500 && !call.failure && call.storeError !== undefined) {
      const classified = toAppError(call.storeError);
      if (classified.status !== 500) call.failure = classified;
    }
    if (response.status >= 400) {
      const failure = call.failure;
      if (failure) {
        throw new AppError(failure.code, failure.message, {
          headers: { ...tusHeaders, ...failure.headers },
          ...(failure.details ? { details: failure.details } : {}),
        });
      }
      throw new AppError(STATUS_CODES[response.status] ?? 'INTERNAL_ERROR', body.trim() || 'Upload failed', {
        headers: tusHeaders,
      });
    }
    if (beforeReply) await beforeReply();
    reply.code(response.status).headers(tusHeaders);
    return reply.send(body === '' ? undefined : body);
  }
}
