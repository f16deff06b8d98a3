/**
 * Issue 16 item 11: no shared cache (a proxy, the browser's back/forward cache) may keep an
 * authenticated JSON answer or a response that carries a token. Every JSON answer of the API
 * says `Cache-Control: no-store`; downloads keep their own `private, no-cache`.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, createRoom } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';
import { ALL_TOKEN_ROUTES, roomFixture } from './routes.js';

const ADMIN = 'admin-token-cache-control-0123456789';

function expectNoStore(res: LightMyRequestResponse, what: string): void {
  expect(String(res.headers['cache-control'] ?? ''), `${what} → ${res.statusCode}`).toMatch(/\bno-store\b/);
}

const isJson = (res: LightMyRequestResponse) => String(res.headers['content-type'] ?? '').includes('json');

describe('Cache-Control: no-store on authenticated and token-issuing answers', () => {
  let t: LoggedApp;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn', configure: (c) => (c.admin.token = ADMIN) });
  });
  afterAll(() => t.close());

  it('every token route answers JSON with no-store (success and failure)', async () => {
    let checked = 0;
    for (const route of ALL_TOKEN_ROUTES) {
      const f = await roomFixture(t.app, 'cc');
      const ok = await route.send(t.app, f, bearer(f.token));
      expect(ok.statusCode, `${route.name}: ${ok.body}`).toBe(route.ok);
      if (isJson(ok)) {
        expectNoStore(ok, route.name);
        checked += 1;
      }
      const refused = await route.send(t.app, f, bearer('not-a-token'));
      expect(isJson(refused), route.name).toBe(true);
      expectNoStore(refused, `${route.name} without a valid token`);
    }
    expect(checked).toBeGreaterThan(8);
  });

  it('downloads keep their own validator-based caching', async () => {
    const f = await roomFixture(t.app, 'cc');
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/contents/${f.fileId}`,
      headers: bearer(f.token),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-cache');
  });

  it('token-issuing and token-checking answers are no-store', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/rooms/cc-issue', payload: {} });
    expect(created.statusCode).toBe(201);
    expectNoStore(created, 'POST room');
    const info = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/cc-issue' });
    expectNoStore(info, 'GET room');
    const entered = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/cc-issue/tokens',
      payload: { with_refresh_token: true },
    });
    expect(entered.statusCode).toBe(200);
    expectNoStore(entered, 'POST tokens');
    const session = entered.json<{ token: string; refresh_token: string }>();
    const validate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/cc-issue/tokens/validate',
      payload: { token: session.token },
    });
    expectNoStore(validate, 'POST tokens/validate');
    const verify = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/cc-issue/password/verify',
      payload: { password: 'x' },
    });
    expectNoStore(verify, 'POST password/verify');
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: session.refresh_token },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expectNoStore(refreshed, 'POST auth/refresh');
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { access_token: refreshed.json<{ token: string }>().token },
    });
    expectNoStore(logout, 'POST auth/logout');
  });

  it('admin answers are no-store', async () => {
    await createRoom(t.app, 'cc-admin');
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/rooms',
      headers: bearer(ADMIN),
    });
    expect(res.statusCode, res.body).toBe(200);
    expectNoStore(res, 'GET admin/rooms');
  });
});
