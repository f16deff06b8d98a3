import {
  API_PREFIX,
  ArchiveQuery,
  ContentIdParams,
  ContentParams,
  ContentView,
  CreatedResponse,
  CreateLinkBody,
  CreateMessageBody,
  DeleteContentsBody,
  DeleteContentsResponse,
  DownloadQuery,
  ListContentsQuery,
  ListMessagesQuery,
  MessagePage,
  MessageResponse,
  RoomNameParams,
  UpdateContentBody,
  UpdatedResponse,
} from '@elizabeth/protocol';
import contentDisposition from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { extractToken, requireRoomToken, roomAuthOf } from '../../http/room-auth.js';
import { errorResponses, ROOM_TOKEN_SECURITY } from '../../http/route-schemas.js';
import { AppError } from '../../lib/errors.js';
import type { BlobStorage } from '../../storage/blob-storage.js';
import type { RoomAuth, SessionAuthenticator } from '../sessions/session-auth.js';
import type { DownloadTicket } from '../share-links/share-links.service.js';
import type { ContentsService } from './contents.service.js';
import { etagMatches, parseRange } from './http-range.js';

export interface ContentsRoutesOptions {
  contents: ContentsService;
  authenticator: SessionAuthenticator;
  storage: BlobStorage;
  /**
   * `storage.local.accel_redirect`: the proxy's internal location of the storage root, or ''.
   * When set (local backend), authorised GETs answer with `X-Accel-Redirect` and no bytes.
   */
  accelRedirect?: string;
  /** `storage.s3.presign_downloads_seconds`: > 0 answers authorised GETs with a 302 to S3. */
  presignSeconds?: number;
  /** Holds a download slot of a share link that limits downloads (the share-links module). */
  beginLinkDownload?: (auth: RoomAuth, method: string) => Promise<DownloadTicket | undefined>;
}

const errors = errorResponses(400, 401, 403, 404, 410, 413);
const security = ROOM_TOKEN_SECURITY;

/** Downloads run in the browser's origin: nothing in them may run script or be sniffed. */
const DOWNLOAD_CSP = 'sandbox';

const requireToken = async (request: FastifyRequest) => {
  if (!extractToken(request)) throw new AppError('AUTHENTICATION_FAILED', 'Missing access token');
};

/** API.md §3: contents of a room, downloads and the room archive. */
export const contentsRoutes: FastifyPluginAsyncZod<ContentsRoutesOptions> = async (
  app,
  { contents, authenticator, storage, accelRedirect = '', presignSeconds = 0, beginLinkDownload },
) => {
  const withToken = requireRoomToken(authenticator);
  // Posting needs EDIT, not VIEW: a drop-box link's session posts and sees nothing.
  const withPostingToken = requireRoomToken(authenticator, { allowWithoutView: true });
  const room = `${API_PREFIX}/rooms/:name`;
  const accel = storage.kind === 'local' ? accelRedirect : '';

  app.get(
    `${room}/contents`,
    {
      onRequest: withToken,
      schema: {
        tags: ['contents'],
        summary: 'All contents of the room, oldest first',
        security,
        params: RoomNameParams,
        querystring: ListContentsQuery,
        response: { 200: z.array(ContentView), ...errors },
      },
    },
    async (request) => contents.list(roomAuthOf(request), request.query.type),
  );

  app.get(
    `${room}/messages`,
    {
      onRequest: withToken,
      schema: {
        tags: ['contents'],
        summary: 'Messages, newest page first, ascending inside a page',
        security,
        params: RoomNameParams,
        querystring: ListMessagesQuery,
        response: { 200: MessagePage, ...errors },
      },
    },
    async (request) => contents.listMessages(roomAuthOf(request), request.query.limit, request.query.cursor),
  );

  app.post(
    `${room}/messages`,
    {
      onRequest: withPostingToken,
      schema: {
        tags: ['contents'],
        summary: 'Post a message',
        security,
        params: RoomNameParams,
        body: CreateMessageBody,
        response: { 201: MessageResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send({ message: await contents.createMessage(roomAuthOf(request), request.body) }),
  );

  app.post(
    `${room}/contents/url`,
    {
      onRequest: withPostingToken,
      schema: {
        tags: ['contents'],
        summary: 'Add a link (absolute http/https URL)',
        security,
        params: RoomNameParams,
        body: CreateLinkBody,
        response: { 201: CreatedResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send({ created: await contents.createLink(roomAuthOf(request), request.body) }),
  );

  app.put(
    `${room}/contents/:id`,
    {
      onRequest: withToken,
      schema: {
        tags: ['contents'],
        summary: 'Edit a message, a link, or rename a file',
        security,
        params: ContentParams,
        body: UpdateContentBody,
        response: { 200: UpdatedResponse, ...errors },
      },
    },
    async (request) => ({
      updated: await contents.update(roomAuthOf(request), request.params.id, request.body),
    }),
  );

  app.delete(
    `${room}/contents`,
    {
      onRequest: withToken,
      schema: {
        tags: ['contents'],
        summary: 'Delete contents (and their stored bytes)',
        security,
        params: RoomNameParams,
        body: DeleteContentsBody,
        response: { 200: DeleteContentsResponse, ...errors },
      },
    },
    async (request) => contents.delete(roomAuthOf(request), request.body.ids),
  );

  app.route({
    method: ['GET', 'HEAD'],
    url: `${API_PREFIX}/contents/:id`,
    onRequest: requireToken,
    // Bytes go out as stored: compressing would break ranges, lengths and throughput.
    compress: false,
    schema: {
      tags: ['contents'],
      summary: 'Download a file (ranges, conditional requests)',
      security,
      params: ContentIdParams,
      querystring: DownloadQuery,
      response: {
        200: z.any(),
        206: z.any(),
        304: z.null(),
        ...errorResponses(400, 401, 403, 404, 410, 416),
      },
    },
    handler: async (request, reply) => {
      const { content, storageKey, auth } = await contents.getDownload(
        request.params.id,
        extractToken(request)!,
      );
      const stored = await storage.stat(storageKey);
      if (!stored) throw new AppError('NOT_FOUND', 'The stored bytes of this file are missing');
      const ticket = await beginLinkDownload?.(auth, request.method);
      if (ticket) countWhenDelivered(reply, ticket, stored.size);
      return sendBlob(request, reply, {
        storage,
        key: storageKey,
        size: stored.size,
        etag: `"${content.id}-${stored.size}-${content.created_at.toString(36)}"`,
        lastModified: content.created_at,
        mimeType: content.mime_type ?? 'application/octet-stream',
        fileName: content.file_name ?? `file-${content.id}`,
        disposition: request.query.disposition ?? 'attachment',
        // A limited link's download is counted here, when its last byte is written.
        accel: ticket ? '' : accel,
        presignSeconds: storage.kind === 's3' && !ticket ? presignSeconds : 0,
      });
    },
  });

  app.get(
    `${room}/archive`,
    {
      onRequest: withToken,
      compress: false,
      schema: {
        tags: ['contents'],
        summary: 'A zip of the chosen files (or all) plus messages.md (unless messages=false)',
        security,
        params: RoomNameParams,
        querystring: ArchiveQuery,
        response: { 200: z.any(), ...errors },
      },
    },
    async (request, reply) => {
      const auth = roomAuthOf(request);
      const ids = request.query.ids?.split(',').map(Number);
      const messages = request.query.messages !== 'false' && request.query.messages !== '0';
      const zip = await contents.archive(auth, ids, { messages });
      reply
        .type('application/zip')
        .header('Content-Disposition', contentDisposition(`${auth.room.name}.zip`))
        .header('Cache-Control', 'no-store')
        .header('X-Content-Type-Options', 'nosniff');
      return reply.send(zip);
    },
  );
};

/**
 * A share link's download counts when the response carrying the file's last byte was written
 * in full (`finish`): a whole-file 200, or a 206 whose range ends at the last byte, so a
 * download resumed with ranges counts once. Anything else (a range short of the end, a 304, an
 * error, a connection closed early) gives the slot back.
 */
function countWhenDelivered(reply: FastifyReply, ticket: DownloadTicket, size: number): void {
  const response = reply.raw;
  const settle = (completed: boolean) => {
    ticket
      .finish(completed)
      .catch((error: unknown) => reply.log.warn({ err: error }, 'share link download count failed'));
  };
  response.once('finish', () => {
    const status = reply.statusCode;
    const range = /\/(\d+)$/.exec(String(reply.getHeader('content-range') ?? ''));
    const end = /^bytes \d+-(\d+)\//.exec(String(reply.getHeader('content-range') ?? ''));
    const reachesEnd =
      status === 200 || (status === 206 && range !== null && end !== null && Number(end[1]) === size - 1);
    settle(reachesEnd);
  });
  response.once('close', () => settle(false));
}

interface BlobResponse {
  storage: BlobStorage;
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  mimeType: string;
  fileName: string;
  disposition: 'attachment' | 'inline';
  /** The proxy's internal location of the storage root ('' = stream the bytes here). */
  accel: string;
  /** > 0: answer with a 302 to a presigned URL valid this long (S3). */
  presignSeconds: number;
}

async function sendBlob(request: FastifyRequest, reply: FastifyReply, blob: BlobResponse) {
  const headers = request.headers;
  reply
    .header('Accept-Ranges', 'bytes')
    .header('ETag', blob.etag)
    .header('Last-Modified', new Date(blob.lastModified).toUTCString())
    .header('Cache-Control', 'private, no-cache')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', DOWNLOAD_CSP)
    .header('Content-Disposition', contentDisposition(blob.fileName, { type: blob.disposition }));

  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  const notModified =
    ifNoneMatch !== undefined
      ? etagMatches(ifNoneMatch, blob.etag)
      : ifModifiedSince !== undefined &&
        Date.parse(ifModifiedSince) >= Math.floor(blob.lastModified / 1000) * 1000;
  if (notModified) return reply.code(304).send();

  reply.type(blob.mimeType);
  if (blob.accel !== '' && request.method === 'GET') {
    // Authorised: the proxy sends the file itself (sendfile; it answers ranges and If-Range).
    // It keeps Content-Type, Content-Disposition, Cache-Control and Accept-Ranges from here; its
    // internal location adds the other safe headers (docs/DEPLOYMENT.md).
    const path = blob.key.split('/').map(encodeURIComponent).join('/');
    return reply.header('X-Accel-Redirect', `${blob.accel}${path}`).send();
  }
  if (blob.presignSeconds > 0 && blob.storage.downloadUrl && request.method === 'GET') {
    // Authorised: S3 sends the bytes (and answers ranges); the URL names the file and its type.
    const url = await blob.storage.downloadUrl(blob.key, {
      contentDisposition: contentDisposition(blob.fileName, { type: blob.disposition }),
      contentType: blob.mimeType,
      expiresInSeconds: blob.presignSeconds,
    });
    return reply.code(302).header('Location', url).header('Cache-Control', 'no-store').send();
  }
  // `If-Range` with another validator means the client's partial copy is stale: send it all.
  const ifRange = headers['if-range'];
  const fresh =
    typeof ifRange !== 'string' ||
    ifRange === blob.etag ||
    Date.parse(ifRange) >= Math.floor(blob.lastModified / 1000) * 1000;
  const range = parseRange(fresh ? headers.range : undefined, blob.size);
  if (range === 'unsatisfiable') {
    throw new AppError('RANGE_NOT_SATISFIABLE', `The file has ${blob.size} bytes`, {
      headers: { 'Content-Range': `bytes */${blob.size}` },
    });
  }
  const length = range ? range.end - range.start + 1 : blob.size;
  const bytes =
    request.method === 'HEAD' || length === 0
      ? undefined
      : await blob.storage.read(blob.key, range).catch((error: unknown) => {
          // Deleted between finding the content and opening its bytes: a 404 like a moment later.
          if (isMissingBlob(error)) throw new AppError('NOT_FOUND', 'Content not found');
          throw error;
        });
  if (range) reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
  reply.header('Content-Length', String(length));
  return reply.send(bytes);
}

/** A read that failed because the bytes are gone (disk or S3). */
function isMissingBlob(error: unknown): boolean {
  const e = error as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.code === 'ENOENT' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
