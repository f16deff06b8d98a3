import type { FastifyInstance } from 'fastify';

import { AppError } from '../lib/errors.js';

/** Deepest nesting of arrays and objects a JSON body may have; no request needs more than 4. */
export const JSON_MAX_DEPTH = 32;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

/**
 * Whether `text` nests arrays/objects deeper than `max` (brackets inside strings do not count).
 * One pass over the characters that stops at the first level too deep, so a megabyte of
 * `[[[[…` costs microseconds instead of a full JSON.parse.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth -= 1;
    }
  }
  return false;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * JSON bodies: Fastify's own parser (prototype-poisoning checks kept) behind a nesting-depth
 * check; and routes that need no token (no route-level `onRequest` authentication: creating and
 * entering rooms, refreshing tokens) take at most `publicBodyLimit` bytes unless they set
 * their own limit (never more than the global `server.body_limit`).
 */
export function installJsonBodyLimits(app: FastifyInstance, publicBodyLimit: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const body = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (nestsDeeperThan(body, JSON_MAX_DEPTH)) {
      done(
        new AppError('VALIDATION_ERROR', `JSON body nests deeper than ${JSON_MAX_DEPTH} levels`),
        undefined,
      );
      return;
    }
    void parse(request, body, done);
  });

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.onRequest || route.bodyLimit !== undefined) return;
    if (!methods.some((m) => BODY_METHODS.has(m))) return;
    route.bodyLimit = Math.min(publicBodyLimit, app.initialConfig.bodyLimit ?? publicBodyLimit);
  });
}
