import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyRequest } from 'fastify';

import { AppError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether `candidate` equals `secret`, in time that depends on neither: both are hashed first,
 * so `timingSafeEqual` always compares 32 bytes and the secret's length does not leak either.
 */
export function secretMatches(candidate: string, secret: string): boolean {
  return timingSafeEqual(digest(candidate), digest(secret));
}

/** Fails with 401 unless the request carries `Authorization: Bearer <secret>`. */
export function requireBearerSecret(request: FastifyRequest, secret: string, what: string): void {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) throw new AppError('AUTHENTICATION_FAILED', `Missing ${what} token`);
  if (!secretMatches(match[1], secret)) throw new AppError('AUTHENTICATION_FAILED', `Invalid ${what} token`);
}
