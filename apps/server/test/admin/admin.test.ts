import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as bearerSecret from '../../src/lib/bearer-secret.js';
import { ManualClock } from '../../src/lib/clock.js';
import { listen, WsClient } from '../realtime/ws-client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const admin = bearer(ADMIN_TOKEN);

describe('admin API without an admin token', () => {
  it('does not exist: every admin route is a 404 envelope', async () => {
    const t = await createTestApp();
    try {
      for (const [method, url] of [
        ['GET', '/api/v1/admin/rooms'],
        ['DELETE', '/api/v1/admin/rooms/abc'],
        ['POST', '/api/v1/admin/gc'],
        ['DELETE', '/api/v1/admin/auth/cleanup'],
      ] as const) {
        expectError(await t.app.inject({ method, url, headers: admin }), 404, 'NOT_FOUND');
      }
    } finally {
      await t.close();
    }
  });
});

describe('admin API', () => {
  let t: TestApp;
  let wsUrl: string;
  const clock = new ManualClock(Date.UTC(2026, 2, 1));

  beforeAll(async () => {
    t = await createTestApp({ clock, env: { ELIZABETH_ADMIN_TOKEN: ADMIN_TOKEN } });
    wsUrl = await listen(t.app);
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a missing or wrong token with 401, whatever its length (hashes are compared, never raw lengths)', async () => {
    expectError(await t.app.inject({ url: '/api/v1/admin/rooms' }), 401, 'AUTHENTICATION_FAILED');
    for (const wrong of ['x', ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`, 'y'.repeat(500)]) {
      expectError(
        await t.app.inject({ url: '/api/v1/admin/rooms', headers: bearer(wrong) }),
        401,
        'AUTHENTICATION_FAILED',
      );
    }
    expect(bearerSecret.secretMatches(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(true);
    expect(bearerSecret.secretMatches('short', ADMIN_TOKEN)).toBe(false);
    expect((await t.app.inject({ url: '/api/v1/admin/rooms', headers: admin })).statusCode).toBe(200);
  });

  it('lists every room with usage and live sockets, in keyset pages', async () => {
    for (const name of ['adm-a', 'adm-b', 'adm-c', 'adm-d', 'adm-e']) await createRoom(t.app, name);
    const { token } = await enter(t.app, 'adm-b');
    const socket = await WsClient.connect(wsUrl, token, 'adm-b');

    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
      const res = await t.app.inject({ url: `/api/v1/admin/rooms?${query}`, headers: admin });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{
        items: Array<{ name: string; sockets: number } & Record<string, unknown>>;
        next_cursor: string | null;
        has_more: boolean;
      }>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        names.push(item.name);
        if (item.name === 'adm-b')
          expect(item).toMatchObject({ sockets: 1, current_times_entered: 1, contents: 0 });
        else expect(item.sockets).toBe(0);
        expect(item).toHaveProperty('current_size');
      }
      expect(page.has_more).toBe(page.next_cursor !== null);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    expect(names.filter((n) => n.startsWith('adm-'))).toEqual(['adm-a', 'adm-b', 'adm-c', 'adm-d', 'adm-e']);
    expect(pages).toBeGreaterThanOrEqual(3);
    expectError(
      await t.app.inject({ url: '/api/v1/admin/rooms?cursor=bogus', headers: admin }),
      400,
      'VALIDATION_ERROR',
    );
    await socket.close();
  });

  it('takes a room down: gone, sockets closed with room_deleted, tokens dead', async () => {
    await createRoom(t.app, 'takedown');
    const { token } = await enter(t.app, 'takedown');
    const socket = await WsClient.connect(wsUrl, token, 'takedown');
    const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/admin/rooms/takedown', headers: admin });
    expect(res.json()).toEqual({ deleted: true });
    expect((await socket.next('error')).payload.code).toBe('room_deleted');
    await socket.expectClose();
    expectError(
      await t.app.inject({ url: '/api/v1/rooms/takedown/tokens', headers: bearer(token) }),
      404,
      'ROOM_NOT_FOUND',
    );
    expectError(
      await t.app.inject({ method: 'DELETE', url: '/api/v1/admin/rooms/takedown', headers: admin }),
      404,
      'ROOM_NOT_FOUND',
    );
  });

  it('runs a lifecycle pass and cleans up expired tokens on demand', async () => {
    await createRoom(t.app, 'adm-expiring', { age_seconds: 60 });
    clock.advance(3 * 3600_000);
    const gc = await t.app.inject({ method: 'POST', url: '/api/v1/admin/gc', headers: admin });
    expect(gc.statusCode, gc.body).toBe(200);
    expect(gc.json()).toMatchObject({ skipped: false });
    expect(gc.json().expired_rooms).toBeGreaterThanOrEqual(1);

    const cleanup = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/auth/cleanup',
      headers: admin,
    });
    expect(cleanup.statusCode).toBe(200);
    expect(cleanup.json()).toEqual({ expired_sessions: 0, expired_refresh_tokens: 0, expired_blacklist: 0 });
  });

  it('is in the OpenAPI document under the admin tag', async () => {
    const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
    expect(doc.paths['/api/v1/admin/rooms'].get.tags).toEqual(['admin']);
    expect(doc.paths['/api/v1/admin/gc'].post.security).toEqual([{ adminToken: [] }]);
    expect(doc.paths['/api/v1/ws'].get.description).toContain('connect');
  });
});
