import type { ErrorCode, ErrorDetail } from '@elizabeth/protocol';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

import { isConnectionError, isForeignKeyViolation } from '../db/errors.js';
import { AppError } from '../lib/errors.js';

/** Framework error codes (Fastify and its plugins) and what they mean for the client. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_ERR_BAD_URL: 'VALIDATION_ERROR',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_ERROR',
  // A path parameter over the router's maxParamLength (find-my-way answers 414 otherwise).
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_ERROR',
};

/** Framework messages that would echo a huge or hostile input back; replaced by a fixed text. */
const FIXED_MESSAGES: Record<string, string> = {
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is too long',
};

const BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  401: 'AUTHENTICATION_FAILED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  410: 'ROOM_EXPIRED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
  507: 'INSUFFICIENT_STORAGE',
};

/**
 * Parse errors of the multipart parser (@fastify/busboy): they carry no code, only a message,
 * and mean the client sent a broken body (truncated, no boundary, an over-long boundary).
 */
const MALFORMED_MULTIPART =
  /^(Unexpected end of multipart data|Multipart: Boundary not found|.* terminated early due to unexpected end of multipart data|The needle cannot (have a length bigger than 256|be an empty String\/Buffer)\.?)$/;

/** Node's errno codes that mean the disk or bucket is full or refuses writes. */
const STORAGE_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
/** S3 error codes of a full bucket or disk (MinIO's full disk, a Ceph/RGW quota). */
const S3_FULL = new Set(['XMinioStorageFull', 'QuotaExceeded']);
/** S3 error codes that mean "overloaded or down, try again" (after the SDK's own retries). */
const S3_UNAVAILABLE = new Set(['SlowDown', 'ServiceUnavailable']);

/** The HTTP status and code of an error S3 answered (AWS SDK errors carry both). */
function s3Failure(error: object): { status: number; name: string } | undefined {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' ? { status, name: e.name ?? '' } : undefined;
}

function validationDetails(error: FastifyError): ErrorDetail[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [];
  const where = error.validationContext ?? 'body';
  return error.validation.map((issue) => {
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return { path: path ? `${where}.${path}` : where, message: issue.message ?? 'invalid value' };
  });
}

/** Turns anything thrown into an AppError; the only place where errors are classified. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const err = error as FastifyError & { errno?: number; code?: string };
  if (err && typeof err === 'object') {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = validationDetails(err);
      const first = details[0];
      const message = first ? `Invalid ${first.path}: ${first.message}` : 'Invalid request';
      return new AppError('VALIDATION_ERROR', message, { details, cause: err });
    }
    if (err.validation) {
      return new AppError('VALIDATION_ERROR', err.message, { cause: err });
    }
    const mapped = err.code ? FRAMEWORK_CODES[err.code] : undefined;
    if (mapped) return new AppError(mapped, cleanFrameworkMessage(err), { cause: err });
    if (err.code && STORAGE_FULL.has(err.code)) {
      return new AppError('INSUFFICIENT_STORAGE', 'Not enough storage space', { cause: err });
    }
    const s3 = s3Failure(err);
    if (s3 && (s3.status === 507 || S3_FULL.has(s3.name))) {
      return new AppError('INSUFFICIENT_STORAGE', 'Not enough storage space', { cause: err });
    }
    if (isConnectionError(err) || (s3 && (s3.status === 503 || S3_UNAVAILABLE.has(s3.name)))) {
      return new AppError('SERVICE_UNAVAILABLE', 'A backing service is unavailable, try again shortly', {
        cause: err,
      });
    }
    // A row written under one that a concurrent request deleted (a reservation under its room).
    if (isForeignKeyViolation(err)) {
      return new AppError('CONFLICT', 'What this request writes to was deleted while it ran', { cause: err });
    }
    if (!err.code && typeof err.message === 'string' && MALFORMED_MULTIPART.test(err.message)) {
      return new AppError('VALIDATION_ERROR', `Malformed multipart body: ${err.message}`, { cause: err });
    }
    if (err instanceof SyntaxError && err.statusCode === 400) {
      return new AppError('VALIDATION_ERROR', `Malformed JSON body: ${err.message}`, { cause: err });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    const byStatus = status < 500 || status === 503 || status === 507 ? BY_STATUS[status] : undefined;
    if (byStatus) return new AppError(byStatus, cleanFrameworkMessage(err), { cause: err });
    // Any other client error a plugin raises (414, 422, …) is still the client's fault.
    if (status >= 400 && status < 500) {
      return new AppError('VALIDATION_ERROR', cleanFrameworkMessage(err), { cause: err });
    }
  }
  return new AppError('INTERNAL_ERROR', 'Internal server error', { cause: error });
}

function cleanFrameworkMessage(err: FastifyError): string {
  const fixed = err.code ? FIXED_MESSAGES[err.code] : undefined;
  return fixed ?? (err.message || 'Request rejected');
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toEnvelope());
}

/** Route patterns seen at registration, to tell 404 (no such path) from 405 (wrong method). */
class RouteTable {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];

  add(url: string, methods: string | string[]): void {
    const source = url
      .split('/')
      .map((segment) =>
        segment.startsWith(':')
          ? '[^/]+'
          : segment === '*'
            ? '.*'
            : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    const list = Array.isArray(methods) ? methods : [methods];
    const existing = this.routes.find((r) => r.pattern.source === pattern.source);
    if (existing) list.forEach((m) => existing.methods.add(m));
    else this.routes.push({ pattern, methods: new Set(list) });
  }

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
    }
    return [...methods].sort();
  }
}

export interface ErrorHandlingOptions {
  /** Serves non-API paths that match no route (the web app); `undefined` = 404 envelope. */
  fallback?: (request: FastifyRequest, reply: FastifyReply) => unknown;
}

const isApiPath = (path: string) => path === '/api' || path.startsWith('/api/') || path === '/metrics';

/** Installs the error handler, the 404/405 handler and the envelope for every failure. */
export function installErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions = {}): void {
  const table = new RouteTable();
  app.addHook('onRoute', (route) => {
    table.add(route.url, route.method);
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info({ code: appError.code, status: appError.status }, appError.message);
    }
    return sendError(reply, appError);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = table.allowedMethods(path).filter((m) => m !== request.method);
    if (allowed.length > 0) {
      return sendError(
        reply.header('Allow', allowed.join(', ')),
        new AppError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed on ${path}`),
      );
    }
    if (!isApiPath(path) && options.fallback && (request.method === 'GET' || request.method === 'HEAD')) {
      return options.fallback(request, reply);
    }
    return sendError(reply, new AppError('NOT_FOUND', `No route for ${request.method} ${path}`));
  });
}
