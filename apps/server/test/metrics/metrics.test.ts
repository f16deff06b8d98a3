import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';
import { createRoom, expectError } from '../support/rooms.js';
import { find, parse } from './prometheus.js';

describe('/metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { ELIZABETH_ADMIN_TOKEN: 'admin-token-0123456789abcdef' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts requests by route pattern and status, and gathers usage at scrape time', async () => {
    await createRoom(t.app, 'metrics-one', { max_size: 1000 });
    await createRoom(t.app, 'metrics-two');
    await t.app.inject({ url: '/api/v1/rooms/metrics-one' });
    await t.app.inject({ url: '/api/v1/rooms/bad%20name' });
    await t.app.inject({ url: '/api/v1/no-such-route/12345' });
    await t.database.db
      .updateTable('rooms')
      .set({ current_size: 700 })
      .where('name', '=', 'metrics-one')
      .execute();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/admin/gc',
      headers: { authorization: 'Bearer admin-token-0123456789abcdef' },
    });

    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const samples = parse(res.body);

    const created = find(samples, 'elizabeth_http_requests_total', {
      method: 'POST',
      route: '/api/v1/rooms/:name',
      status: '201',
    });
    expect(created[0]?.value).toBe(2);
    expect(
      find(samples, 'elizabeth_http_requests_total', { route: '/api/v1/rooms/:name', status: '400' })[0]
        ?.value,
    ).toBe(1);
    expect(
      find(samples, 'elizabeth_http_requests_total', { route: 'unmatched', status: '404' })[0]?.value,
    ).toBe(1);
    // Route patterns, never raw URLs.
    expect(samples.some((s) => s.labels.route?.includes('metrics-one'))).toBe(false);
    const histogram = find(samples, 'elizabeth_http_request_duration_seconds_count', {
      method: 'POST',
      route: '/api/v1/rooms/:name',
    });
    expect(histogram[0]?.value).toBe(2);

    expect(find(samples, 'elizabeth_rooms')[0]?.value).toBe(2);
    expect(find(samples, 'elizabeth_stored_bytes')[0]?.value).toBe(700);
    expect(find(samples, 'elizabeth_uploads_in_progress')[0]?.value).toBe(0);
    expect(find(samples, 'elizabeth_websocket_connections')[0]?.value).toBe(0);
    expect(find(samples, 'elizabeth_gc_runs_total', { result: 'completed' })[0]?.value).toBe(1);
    expect(samples.some((s) => s.name === 'elizabeth_process_resident_memory_bytes')).toBe(true);
  });
});

describe('/metrics settings', () => {
  it('asks for the metrics token when one is set', async () => {
    const t = await createTestApp({ env: { METRICS_TOKEN: 'scrape-secret-0123456789' } });
    try {
      expectError(await t.app.inject({ url: '/metrics' }), 401, 'AUTHENTICATION_FAILED');
      expectError(
        await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } }),
        401,
        'AUTHENTICATION_FAILED',
      );
      const ok = await t.app.inject({
        url: '/metrics',
        headers: { authorization: 'Bearer scrape-secret-0123456789' },
      });
      expect(ok.statusCode).toBe(200);
      expect(parse(ok.body).length).toBeGreaterThan(10);
    } finally {
      await t.close();
    }
  });

  it('is a 404 envelope when disabled', async () => {
    const t = await createTestApp({ env: { METRICS_ENABLED: 'false' } });
    try {
      expectError(await t.app.inject({ url: '/metrics' }), 404, 'NOT_FOUND');
    } finally {
      await t.close();
    }
  });
});
