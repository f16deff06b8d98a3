import { ErrorEnvelope } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { AppError } from '../../src/lib/errors.js';
import { createTestApp, type TestApp } from '../support/app.js';

function expectEnvelope(body: string, code: string, status: number) {
  const parsed = ErrorEnvelope.parse(JSON.parse(body));
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.status).toBe(status);
  expect(body).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
  return parsed;
}

describe('error envelope for framework-level failures', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { BODY_LIMIT: '2KiB', ROOM_MAX_MESSAGE_BYTES: '1KiB' },
      extend(app) {
        app.post(
          '/api/v1/test/echo',
          { schema: { body: z.object({ name: z.string().min(3), count: z.number().int().optional() }) } },
          async (request) => request.body,
        );
        app.get('/api/v1/test/boom', async () => {
          throw new Error('secret internals /srv/app.ts:12');
        });
        app.get('/api/v1/test/app-error', async () => {
          throw new AppError('CONFLICT', 'Room already exists');
        });
      },
    });
  });
  afterAll(() => t.close());

  it('passes a valid body through', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/test/echo', payload: { name: 'abc' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'abc' });
  });

  it('malformed JSON → 400 VALIDATION_ERROR', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{ not json',
    });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.body, 'VALIDATION_ERROR', 400);
  });

  it('empty JSON body → 400 VALIDATION_ERROR', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.body, 'VALIDATION_ERROR', 400);
  });

  it('schema violation → 400 with details naming each field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      payload: { name: 'x', count: 'many' },
    });
    expect(res.statusCode).toBe(400);
    const { error } = expectEnvelope(res.body, 'VALIDATION_ERROR', 400);
    const paths = (error.details ?? []).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.name', 'body.count']));
  });

  it('unknown route under /api/ → 404 NOT_FOUND envelope', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expectEnvelope(res.body, 'NOT_FOUND', 404);
  });

  it('wrong method on a known path → 405 with Allow', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/health' });
    expect(res.statusCode).toBe(405);
    expectEnvelope(res.body, 'METHOD_NOT_ALLOWED', 405);
    expect(res.headers.allow).toContain('GET');
  });

  it('body over the limit → 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      payload: { name: 'x'.repeat(4096) },
    });
    expect(res.statusCode).toBe(413);
    expectEnvelope(res.body, 'PAYLOAD_TOO_LARGE', 413);
  });

  it('unsupported content type → 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      headers: { 'content-type': 'application/x-something' },
      payload: 'abc',
    });
    expect(res.statusCode).toBe(415);
    expectEnvelope(res.body, 'UNSUPPORTED_MEDIA_TYPE', 415);
  });

  it('an unexpected exception → 500 INTERNAL_ERROR without internals', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/test/boom' });
    expect(res.statusCode).toBe(500);
    expectEnvelope(res.body, 'INTERNAL_ERROR', 500);
    expect(res.body).not.toContain('secret internals');
  });

  it('an AppError keeps its code, status and message', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/test/app-error' });
    expect(res.statusCode).toBe(409);
    expect(expectEnvelope(res.body, 'CONFLICT', 409).error.message).toBe('Room already exists');
  });
});

describe('rate limiting', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        MIDDLEWARE_RATE_LIMIT_ENABLED: 'true',
        MIDDLEWARE_RATE_LIMIT_PER_SECOND: '2',
        MIDDLEWARE_RATE_LIMIT_BURST_SIZE: '4',
      },
    });
  });
  afterAll(() => t.close());

  it('allows the burst, then 429 RATE_LIMITED with Retry-After; health is exempt', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      codes.push((await t.app.inject({ method: 'GET', url: '/api/v1/config' })).statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 200, 429]);
    const limited = await t.app.inject({ method: 'GET', url: '/api/v1/config' });
    expect(limited.statusCode).toBe(429);
    expectEnvelope(limited.body, 'RATE_LIMITED', 429);
    const retryAfter = Number(limited.headers['retry-after']);
    // burst 4 at 2 per second: the window is 2 s
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
  });

  it('counts clients separately by address', async () => {
    const other = await t.app.inject({ method: 'GET', url: '/api/v1/config', remoteAddress: '10.9.8.7' });
    expect(other.statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For unless a proxy is trusted', async () => {
    const spoofed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(spoofed.statusCode).toBe(429);
  });
});

describe('rate limiting behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        MIDDLEWARE_RATE_LIMIT_ENABLED: 'true',
        MIDDLEWARE_RATE_LIMIT_PER_SECOND: '1',
        MIDDLEWARE_RATE_LIMIT_BURST_SIZE: '1',
        TRUSTED_PROXIES: '127.0.0.1',
      },
    });
  });
  afterAll(() => t.close());

  it('uses the forwarded client address when the proxy is trusted', async () => {
    const a = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    const b = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { 'x-forwarded-for': '198.51.100.2' },
    });
    const a2 = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect([a.statusCode, b.statusCode, a2.statusCode]).toEqual([200, 200, 429]);
  });
});
