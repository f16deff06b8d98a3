import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';

describe('security headers and request ids', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('sets the configured security headers and a locked-down CSP on API responses', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/config' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('sets them on error responses too', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/missing' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('echoes a well-formed X-Request-Id and generates one otherwise', async () => {
    const echoed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/health',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(echoed.headers['x-request-id']).toBe('abc-123');
    const generated = await t.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await t.app.inject({
      method: 'GET',
      url: '/api/v1/health',
      headers: { 'x-request-id': 'bad id with spaces <script>' },
    });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends no CORS headers while CORS is disabled', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { origin: 'https://evil.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('security headers can be configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        MIDDLEWARE_SECURITY_FRAME_OPTIONS: 'SAMEORIGIN',
        MIDDLEWARE_REQUEST_ID_HEADER_NAME: 'X-Trace-Id',
      },
      configure(config) {
        config.middleware.security.strict_transport_security = '';
      },
    });
  });
  afterAll(() => t.close());

  it('uses the configured values and omits empty ones', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/health',
      headers: { 'x-trace-id': 'trace-1' },
    });
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['x-trace-id']).toBe('trace-1');
  });
});

describe('CORS with an allow-list', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        MIDDLEWARE_CORS_ENABLED: 'true',
        MIDDLEWARE_CORS_ALLOWED_ORIGINS: 'https://app.example, https://other.example',
      },
    });
  });
  afterAll(() => t.close());

  it('allows a listed origin and exposes the tus and request-id headers', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { origin: 'https://app.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    const exposed = String(res.headers['access-control-expose-headers']);
    expect(exposed).toContain('Upload-Offset');
    expect(exposed).toContain('X-Request-Id');
  });

  it('denies an unlisted origin', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/config',
      headers: { origin: 'https://evil.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight for a listed origin', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/config',
      headers: {
        origin: 'https://other.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://other.example');
    expect(String(res.headers['access-control-allow-methods'])).toContain('PUT');
    expect(res.headers['access-control-max-age']).toBe('3600');
  });
});

describe('compression', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { MIDDLEWARE_COMPRESSION_MIN_CONTENT_LENGTH: '600' },
      extend(app) {
        app.get('/api/v1/test/small', async () => ({ text: 'x'.repeat(100) }));
        app.get('/api/v1/test/large', async () => ({ text: 'y'.repeat(5000) }));
      },
    });
  });
  afterAll(() => t.close());

  it('compresses with br when accepted and the body is over the threshold', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/test/large',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(res.headers['content-encoding']).toBe('br');
    expect(JSON.parse(brotliDecompressSync(res.rawPayload).toString()).text).toHaveLength(5000);
  });

  it('falls back to gzip', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/test/large',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(res.rawPayload).toString()).text).toHaveLength(5000);
  });

  it('leaves bodies under min_content_length alone', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/test/small',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.json().text).toHaveLength(100);
  });
});

describe('compression disabled', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { MIDDLEWARE_COMPRESSION_ENABLED: 'false' },
      extend(app) {
        app.get('/api/v1/test/large', async () => ({ text: 'y'.repeat(5000) }));
      },
    });
  });
  afterAll(() => t.close());

  it('never compresses', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/test/large',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(res.headers['content-encoding']).toBeUndefined();
  });
});
