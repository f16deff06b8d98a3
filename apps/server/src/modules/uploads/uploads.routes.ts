import multipart, { type MultipartFile } from '@fastify/multipart';
import {
  API_PREFIX,
  PrepareUploadBody,
  PrepareUploadResponse,
  RoomNameParams,
  UploadQuery,
  UploadResponse,
} from '@elizabeth/protocol';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { requireRoomToken, roomAuthOf } from '../../http/room-auth.js';
import { errorResponses, ROOM_TOKEN_SECURITY } from '../../http/route-schemas.js';
import type { AppConfig } from '../../config/types.js';
import { AppError } from '../../lib/errors.js';
import type { SessionAuthenticator } from '../sessions/session-auth.js';
import { TUS_ID, type TusHandler } from './tus-handler.js';
import type { IncomingFile, UploadsService } from './uploads.service.js';

export interface UploadsRoutesOptions {
  uploads: UploadsService;
  tus: TusHandler;
  authenticator: SessionAuthenticator;
  config: Pick<AppConfig, 'upload'>;
}

const errors = errorResponses(400, 401, 403, 404, 409, 410, 413, 415);
const MULTIPART_BUFFER = 1024 * 1024;
const security = ROOM_TOKEN_SECURITY;

/** The file parts of a multipart body, in order; other fields are ignored. */
async function* fileParts(request: FastifyRequest): AsyncGenerator<IncomingFile> {
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    const file: MultipartFile = part;
    if (!file.filename) {
      file.file.resume();
      throw new AppError(
        'VALIDATION_ERROR',
        'Every file part needs a file name (Content-Disposition filename=)',
      );
    }
    yield {
      fileName: file.filename,
      mimeType: file.mimetype,
      stream: file.file,
      truncated: () => file.file.truncated,
    };
  }
}

function isTusChunk(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/offset+octet-stream';
}

function contentLengthOf(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  const value = header === undefined ? NaN : Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** API.md §3: two-step and one-shot multipart uploads, and tus resumable uploads. */
export const uploadsRoutes: FastifyPluginAsyncZod<UploadsRoutesOptions> = async (
  app,
  { uploads, tus, authenticator, config },
) => {
  // Every upload needs EDIT (checked by the service), not VIEW: a drop-box link's session uploads.
  const withToken = requireRoomToken(authenticator, { allowWithoutView: true });
  const room = `${API_PREFIX}/rooms/:name`;

  // Registered in this plugin's scope only: the JSON routes never see a multipart parser.
  await app.register(multipart, {
    // The parser and each file stream buffer up to 1 MiB (defaults: 16 KiB): fewer pauses and
    // resumes of the request per MiB; memory stays a few MiB per upload, whatever its size.
    highWaterMark: MULTIPART_BUFFER,
    fileHwm: MULTIPART_BUFFER,
    limits: {
      fileSize: config.upload.max_file_size,
      files: 1000,
      fields: 100,
      fieldSize: 64 * 1024,
      parts: 1100,
      headerPairs: 100,
    },
  });

  app.post(
    `${room}/contents/prepare`,
    {
      onRequest: withToken,
      schema: {
        tags: ['uploads'],
        summary: 'Reserve quota for a two-step upload',
        security,
        params: RoomNameParams,
        body: PrepareUploadBody,
        response: { 200: PrepareUploadResponse, ...errors },
      },
    },
    async (request) => uploads.prepare(roomAuthOf(request), request.body),
  );

  app.post(
    `${room}/contents`,
    {
      onRequest: withToken,
      // The per-request cap is `upload.max_request_size`, checked while streaming.
      bodyLimit: Math.min(config.upload.max_request_size, Number.MAX_SAFE_INTEGER),
      schema: {
        tags: ['uploads'],
        summary: 'Upload files (multipart): with reservation_id for a prepared upload, without it one-shot',
        security,
        params: RoomNameParams,
        querystring: UploadQuery,
        consumes: ['multipart/form-data'],
        response: { 201: UploadResponse, ...errors },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Uploads are multipart/form-data (curl -F file=@path)');
      }
      const auth = roomAuthOf(request);
      const reservationId = request.query.reservation_id;
      const result =
        reservationId === undefined
          ? await uploads.uploadOneShot(auth, fileParts(request), contentLengthOf(request))
          : await uploads.uploadReserved(auth, reservationId, fileParts(request));
      return reply.code(201).send(result);
    },
  );

  const tusSchema = (summary: string, withId: boolean) => ({
    tags: ['uploads'],
    summary,
    security,
    params: withId ? RoomNameParams.extend({ id: z.string().max(64) }) : RoomNameParams,
    response: { 200: z.any(), 201: z.any(), 204: z.any(), ...errors },
  });

  // tus bodies go to the data store as the raw stream whatever their declared type: in this
  // scope no parser reads a body (tus itself answers 415 to a PATCH of another media type).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const tusScope = scope.withTypeProvider<ZodTypeProvider>();
    tusScope.options(
      `${room}/uploads`,
      { schema: { ...tusSchema('tus capabilities (OPTIONS)', false), security: [] } },
      async (request, reply) => tus.handle(request, reply, undefined),
    );

    tusScope.post(
      `${room}/uploads`,
      {
        onRequest: withToken,
        schema: tusSchema('tus: create an upload (Upload-Length, Upload-Metadata)', false),
      },
      async (request, reply) => tus.handle(request, reply, roomAuthOf(request)),
    );

    tusScope.route({
      method: ['HEAD', 'PATCH', 'DELETE'],
      url: `${room}/uploads/:id`,
      onRequest: withToken,
      compress: false,
      schema: tusSchema('tus: offset (HEAD), append (PATCH), terminate (DELETE)', true),
      handler: async (request, reply) => {
        const auth = roomAuthOf(request);
        const { id } = request.params as unknown as { id: string };
        if (!TUS_ID.test(id)) throw new AppError('NOT_FOUND', 'Upload not found');
        if (request.method === 'PATCH' && !isTusChunk(request.headers['content-type'])) {
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            'A tus PATCH body must be Content-Type: application/offset+octet-stream',
          );
        }
        const upload = await uploads.checkTusAccess(auth, id);
        if (request.method === 'PATCH')
          return tus.patch(request, reply, id, upload, (offset) => uploads.tusProgress(auth, upload, offset));
        const release = request.method === 'DELETE' ? () => uploads.releaseTus(id) : undefined;
        return tus.handle(request, reply, auth, release);
      },
    });
  });
};
