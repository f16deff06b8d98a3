import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';

import { API_PREFIX, type ErrorCode } from '@elizabeth/protocol';
import type { Locker, Server, Upload } from '@tus/server';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { toAppError } from '../../http/error-handler.js';
import { AppError } from '../../lib/errors.js';
import type { TusStoreBinding } from '../../storage/blob-storage.js';
import type { RoomAuth } from '../sessions/session-auth.js';
import type { UploadsService } from './uploads.service.js';

/** How long a PATCH keeps writing after another request asked for its lock (@tus/server's default). */
const LOCK_DRAIN_MS = 3000;

/** Passes at most `limit` bytes; more is a 413 (a chunked PATCH beyond the declared length). */
function limitTo(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit)
        done(new AppError('PAYLOAD_TOO_LARGE', `The upload has ${limit} bytes left of its Upload-Length`));
      else done(null, chunk);
    },
  });
}

/**
 * Counts the bytes of a body that is already being piped (flowing), without another stream in
 * its way: an extra `data` listener sees the same chunks the pipe does. A body that is not yet
 * flowing is left alone (a listener would start it before its destination is attached).
 */
function countBytes(body: Readable, start: number, report: (offset: number) => void): () => void {
  if (body.readableFlowing !== true) return () => undefined;
  let offset = start;
  const onData = (chunk: Buffer) => {
    offset += chunk.length;
    report(offset);
  };
  body.on('data', onData);
  return () => body.off('data', onData);
}

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
  private binding?: TusStoreBinding;
  /** The one locker of @tus/server and of the PATCH fast path (they must exclude each other). */
  private locker?: Locker;
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
    const [{ Server, MemoryLocker }, binding] = await Promise.all([import('@tus/server'), deps.binding()]);
    this.binding = binding;
    this.locker = deps.locker ?? new MemoryLocker();
    // Tus-Extension lists what the store offers; deferred lengths are refused (onUploadCreate).
    binding.store.extensions = binding.store.extensions.filter((e) => e !== 'creation-defer-length');
    return new Server({
      path: `${API_PREFIX}/rooms/uploads`,
      datastore: this.recordingWrites(binding.store),
      locker: this.locker,
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
    const appError = toAppError(error);
    call.failure = appError;
    return forTus(appError);
  }

  private async tusServer(): Promise<Server> {
    this.server ??= this.createServer();
    return this.server.catch((error: unknown) => {
      this.server = undefined;
      throw error;
    });
  }

  /**
   * tus PATCH on the fast path: the Node request stream goes straight into the upload's file
   * (local) or multipart part (S3), with no Web-stream bridge and no metadata read (the size
   * and expiry come from the reservation the route has just checked; the offset is the file's
   * length, or the S3 parts' sum). Same answers as @tus/server's PATCH: 204 with the new
   * `Upload-Offset`, 409 on an offset mismatch, 413 beyond the declared length; the same lock
   * (Redis across instances), handed over after `LOCK_DRAIN_MS` when another request asks for it.
   */
  async patch(
    request: FastifyRequest,
    reply: FastifyReply,
    urlId: string,
    upload: { size: number; expiresAt: number },
    /** Told the offset as the body arrives (the caller throttles it), and the final one. */
    onProgress?: (offset: number) => void,
  ): Promise<FastifyReply> {
    const raw = request.raw;
    const headers = request.headers;
    const closing = { headers: { 'Tus-Resumable': '1.0.0', Connection: 'close' } };
    const refuse = (code: ErrorCode, message: string) => {
      // Nothing of the body was read: drain it and let the connection go after the answer.
      if (!raw.complete) raw.resume();
      return new AppError(code, message, closing);
    };
    if (headers['tus-resumable'] !== '1.0.0')
      throw refuse('VALIDATION_ERROR', 'Tus-Resumable 1.0.0 required');
    const offsetHeader = headers['upload-offset'];
    const offset = Number(offsetHeader);
    if (
      typeof offsetHeader !== 'string' ||
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      String(offset) !== offsetHeader
    ) {
      throw refuse('VALIDATION_ERROR', 'Invalid or missing Upload-Offset');
    }
    if (headers['upload-length'] !== undefined) {
      throw refuse(
        'VALIDATION_ERROR',
        'Upload-Length is set at creation (deferred lengths are not supported)',
      );
    }
    await this.tusServer();
    const binding = this.binding!;
    const storeId = binding.storeIdOf(urlId);
    const lock = this.locker!.newLock(storeId);
    const handOver = new AbortController();
    const cancelled = new AbortController();
    let drain: NodeJS.Timeout | undefined;
    await lock.lock(cancelled.signal, () => {
      drain ??= setTimeout(() => handOver.abort(), LOCK_DRAIN_MS);
    });
    let next: number;
    try {
      const current = await binding.offsetOf(storeId);
      if (current === undefined) throw refuse('NOT_FOUND', 'Upload not found');
      if (current !== offset) {
        throw refuse('CONFLICT', `Upload-Offset ${offset} is not the upload's offset (${current})`);
      }
      const remaining = upload.size - offset;
      const declared = headers['content-length'];
      const length = declared === undefined ? undefined : Number(declared);
      if (length !== undefined && length > remaining) {
        throw refuse('PAYLOAD_TOO_LARGE', `The upload has ${remaining} bytes left of its Upload-Length`);
      }
      // Node's parser stops at Content-Length; only a chunked body needs counting.
      const body = length === undefined ? raw.pipe(limitTo(remaining)) : raw;
      const appending = binding.append(storeId, body, offset, handOver.signal);
      const stopCounting = onProgress ? countBytes(body, offset, onProgress) : undefined;
      try {
        next = await appending;
      } catch (error) {
        if (!raw.complete) raw.resume();
        const code = (error as NodeJS.ErrnoException | null)?.code;
        // The client went away mid-body: what arrived is kept (HEAD tells the offset).
        if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
          throw new AppError('VALIDATION_ERROR', 'The request ended before its body did', closing);
        }
        const appError = toAppError(error);
        throw new AppError(appError.code, appError.message, {
          ...closing,
          headers: { ...closing.headers, ...appError.headers },
        });
      } finally {
        stopCounting?.();
      }
      onProgress?.(next);
    } finally {
      clearTimeout(drain);
      await lock.unlock();
    }
    const finished = next === upload.size;
    if (finished) {
      await this.deps.uploads.finishTus(urlId, next);
      await this.deps.uploads.dropTusMetadata(urlId).catch(() => undefined);
    }
    reply.code(204).header('Tus-Resumable', '1.0.0').header('Upload-Offset', String(next));
    if (!finished) reply.header('Upload-Expires', new Date(upload.expiresAt).toUTCString());
    if (handOver.signal.aborted || !raw.complete) {
      reply.header('Connection', 'close');
      raw.resume();
    }
    return reply.send();
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

    const server = await this.tusServer();
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
