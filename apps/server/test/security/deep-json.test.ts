/**
 * Issue 16 item 10: 1 MiB of `[[[…]]]` sent to an unauthenticated route cost 100–300 ms of
 * event loop each (JSON.parse). Bodies nested deeper than the limit are refused before they
 * are parsed, and routes that need no token take only small bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JSON_MAX_DEPTH } from '../../src/http/json-body.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

const MiB = 1024 * 1024;
const json = { 'content-type': 'application/json' };

/** `depth` nested arrays in `size` bytes at most (padded inside with spaces). */
function nested(depth: number, size = 2 * depth): string {
  const body = '['.repeat(depth) + ']'.repeat(depth);
  return body.length >= size ? body : '['.repeat(depth) + ' '.repeat(size - body.length) + ']'.repeat(depth);
}

describe('deep and oversized JSON bodies', () => {
  let t: LoggedApp;
  let token: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn' });
    await createRoom(t.app, 'deep-json');
    token = (await enter(t.app, 'deep-json')).token;
  });
  afterAll(() => t.close());

  it('almost 1 MiB of nesting to an unauthenticated route → 400 in the envelope, quickly', async () => {
    const body = nested(Math.floor((MiB - 64) / 2));
    const started = performance.now();
    for (let i = 0; i < 5; i += 1) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/deep-json/tokens/validate',
        headers: json,
        payload: body,
      });
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, res.body).toBeLessThan(500);
      expect(res.json<{ error: { code: string } }>().error.code).toMatch(
        /VALIDATION_ERROR|PAYLOAD_TOO_LARGE/,
      );
    }
    // Five parses of this body took 0.5–1.5 s before the fix (machine shared).
    expect(performance.now() - started).toBeLessThan(400);
  });

  it('nesting deeper than the limit → 400 VALIDATION_ERROR, also with a token', async () => {
    const deep = `{"text":${nested(JSON_MAX_DEPTH + 1)}}`;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json/messages',
      headers: { ...json, ...bearer(token) },
      payload: deep,
    });
    expectError(res, 400, 'VALIDATION_ERROR');
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/nest/i);
    const open = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json/tokens/validate',
      headers: json,
      payload: `{"token":${nested(JSON_MAX_DEPTH + 1)}}`,
    });
    expectError(open, 400, 'VALIDATION_ERROR');
  });

  it('brackets inside strings do not count as nesting', async () => {
    const text = '['.repeat(5000) + '{'.repeat(5000) + '\\"[';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json/messages',
      headers: { ...json, ...bearer(token) },
      payload: JSON.stringify({ text }),
    });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('an unauthenticated route refuses a body over the public limit; a token route takes it', async () => {
    const big = JSON.stringify({ token: 'x'.repeat(t.config.server.public_body_limit) });
    const open = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json/tokens/validate',
      headers: json,
      payload: big,
    });
    expectError(open, 413, 'PAYLOAD_TOO_LARGE');
    const create = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json-2',
      headers: json,
      payload: JSON.stringify({ password: 'p'.repeat(t.config.server.public_body_limit) }),
    });
    expectError(create, 413, 'PAYLOAD_TOO_LARGE');
    const message = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json/messages',
      headers: { ...json, ...bearer(token) },
      payload: JSON.stringify({ text: 'm'.repeat(t.config.server.public_body_limit * 2) }),
    });
    expect(message.statusCode, message.body).toBe(201);
  });

  it('ordinary bodies still work', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json-3',
      headers: json,
      payload: { password: 'secret-pass', max_times_entered: 5 },
    });
    expect(res.statusCode, res.body).toBe(201);
    const entered = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/deep-json-3/tokens',
      headers: json,
      payload: { password: 'secret-pass' },
    });
    expect(entered.statusCode, entered.body).toBe(200);
  });
});
