import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';

import { AppError } from '../lib/errors.js';
import type {
  AuthenticateOptions,
  RoomAuth,
  SessionAuthenticator,
} from '../modules/sessions/session-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    roomAuth?: RoomAuth;
  }
}

/** The access token of a request: `Authorization: Bearer …` wins over `?token=`. */
export function extractToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1]) return match[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined;
}

/**
 * An `onRequest` hook for routes under `/rooms/{name}` that need a room token. It runs before
 * the body is read, so a request without a valid token is refused before its body is examined.
 */
export function requireRoomToken(
  authenticator: SessionAuthenticator,
  options: AuthenticateOptions = {},
): onRequestAsyncHookHandler {
  return async (request) => {
    const token = extractToken(request);
    if (!token) throw new AppError('AUTHENTICATION_FAILED', 'Missing access token');
    const params = request.params as { name?: string };
    request.roomAuth = await authenticator.authenticate(params.name ?? '', token, options);
  };
}

export function roomAuthOf(request: FastifyRequest): RoomAuth {
  if (!request.roomAuth) throw new AppError('AUTHENTICATION_FAILED', 'Missing access token');
  return request.roomAuth;
}

/** Whether the request presents a live session of the room at `name` (never throws). */
export async function holdsSession(
  authenticator: SessionAuthenticator,
  request: FastifyRequest,
  name: string,
): Promise<boolean> {
  const token = extractToken(request);
  if (!token) return false;
  return authenticator.authenticate(name, token).then(
    () => true,
    () => false,
  );
}
