import { HealthResponse, PublicConfigResponse, StatusResponse } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { describeEachDatabase } from '../support/db.js';
import { createTestApp, type TestApp } from '../support/app.js';

describeEachDatabase('service routes', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      engine,
      env: { ROOM_MAX_SIZE: '100MiB', ROOM_DEFAULT_PERMISSION_DELETE: 'false' },
    });
  });
  afterAll(() => t.close());

  it('GET /health answers ok when database and storage answer', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    expect(HealthResponse.parse(res.json())).toEqual({
      status: 'ok',
      checks: { database: 'ok', storage: 'ok' },
    });
  });

  it('GET /status reports version, engines and memory', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/status' });
    expect(res.statusCode).toBe(200);
    const status = StatusResponse.parse(res.json());
    expect(status.database).toBe(engine);
    expect(status.storage).toBe('local');
    expect(status.memory.rss_bytes).toBeGreaterThan(1_000_000);
    expect(status.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('GET /config publishes the room and upload policy and nothing secret', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/config' });
    const config = PublicConfigResponse.parse(res.json());
    expect(config.room.expiry.allowed_ages_seconds).toEqual([
      60, 1800, 7200, 43200, 86400, 604800, 2592000, 31536000,
    ]);
    expect(config.room.expiry.default_age_seconds).toBe(7200);
    expect(config.room.defaults.max_size).toBe(100 * 1024 * 1024);
    expect(config.room.defaults.permission).toBe(1 | 2 | 4);
    expect(config.upload.tus_endpoint).toBe('/api/v1/rooms/{name}/uploads');
    expect(res.body).not.toContain(t.config.jwt.secret);
    expect(res.body).not.toMatch(/secret|password"|database|sqlite|postgres/i);
  });
});

describe('health when storage fails', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      configure(config) {
        // a path below a regular file can never be created
        config.storage.root = '/dev/null/storage';
      },
    });
  });
  afterAll(() => t.close());

  it('answers 503 naming the failing part', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'degraded', checks: { database: 'ok', storage: 'failing' } });
  });
});

describe('API documents', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('serves an OpenAPI 3.1 document covering the service routes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/health', '/api/v1/status', '/api/v1/config']),
    );
    expect(doc.components.schemas).toHaveProperty('HealthResponse');
  });

  it('serves the Scalar UI with its script from this server, under a nonce CSP', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/api/v1/scalar/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).not.toMatch(/cdn\.jsdelivr|unpkg\.com|fonts\.googleapis/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain("unsafe-inline' ;script");
    const script = await t.app.inject({ method: 'GET', url: '/api/v1/scalar/js/scalar.js' });
    expect(script.statusCode).toBe(200);
    expect(script.body.length).toBeGreaterThan(100_000);
  });
});
