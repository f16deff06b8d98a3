import { UpdatePermissionsResponse } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

const DAY = 24 * 3600 * 1000;

/** Issue 17: the web app's room check never creates, names the exact reason, lets held sessions in. */
describeEachDatabase('room lookup and entry', (engine) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
  beforeAll(async () => {
    t = await createTestApp({ engine, clock });
  });
  afterAll(() => t.close());

  const get = (path: string, token?: string) =>
    t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${path}`,
      ...(token ? { headers: bearer(token) } : {}),
    });
  const reasonOf = (res: { json(): unknown }) =>
    (res.json() as { error: { details?: Array<{ path: string; message: string }> } }).error.details?.find(
      (d) => d.path === 'reason',
    )?.message;

  describe('GET /rooms/{name}?create=false', () => {
    it('404 without creating the room; the zero-step GET still creates it', async () => {
      expectError(await get('never-made?create=false'), 404, 'ROOM_NOT_FOUND');
      expectError(await get('never-made?create=false'), 404, 'ROOM_NOT_FOUND');
      const created = await get('never-made');
      expect(created.statusCode).toBe(200);
      expect((await get('never-made?create=false')).json().id).toBe(created.json().id);
    });

    it('names a room whose address differs only in case', async () => {
      await createRoom(t.app, 'demo-room');
      const res = await get('Demo-Room?create=false');
      expectError(res, 404, 'ROOM_NOT_FOUND');
      expect(res.json().error.details).toEqual([{ path: 'similar', message: 'demo-room' }]);
    });

    it('410 "purged" for a room the lifecycle pass removed, for a week; then 404', async () => {
      await createRoom(t.app, 'gone-room', { age_seconds: 60 });
      clock.advance(61_000);
      await t.app.lifecycle.runPass();
      const res = await get('gone-room?create=false');
      expectError(res, 410, 'ROOM_EXPIRED');
      expect(reasonOf(res)).toBe('purged');
      clock.advance(7 * DAY);
      await t.app.lifecycle.runPass();
      expectError(await get('gone-room?create=false'), 404, 'ROOM_NOT_FOUND');
    });
  });

  describe('entry limit', () => {
    it('the last slot is usable and a held session always gets back in; new visitors get the reason', async () => {
      await createRoom(t.app, 'two-slots', { max_times_entered: 2, password: 'hunter22' });
      const first = await enter(t.app, 'two-slots', { password: 'hunter22' });
      expect((await get('two-slots?create=false')).statusCode).toBe(200);
      const second = await enter(t.app, 'two-slots', { password: 'hunter22' });
      // Both holders get the room; a newcomer is told the limit is the reason.
      expect((await get('two-slots?create=false', second.token)).statusCode).toBe(200);
      expect((await get('two-slots', first.token)).statusCode).toBe(200);
      const newcomer = await get('two-slots?create=false');
      expectError(newcomer, 401, 'ROOM_NOT_ENTERABLE');
      expect(reasonOf(newcomer)).toBe('entry_limit');
      const entry = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/two-slots/tokens',
        payload: { password: 'hunter22' },
      });
      expectError(entry, 401, 'ROOM_NOT_ENTERABLE');
      expect(reasonOf(entry)).toBe('entry_limit');
    });

    it('a moved name says so', async () => {
      await createRoom(t.app, 'moving-room');
      const { token } = await enter(t.app, 'moving-room');
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/moving-room/permissions',
        headers: bearer(token),
        payload: { edit: true, share: false, delete: true },
      });
      const res = await get('moving-room?create=false');
      expectError(res, 401, 'ROOM_NOT_ENTERABLE');
      expect(reasonOf(res)).toBe('moved');
    });
  });

  it('refuses at expire_at exactly, with or without a session', async () => {
    const room = await createRoom(t.app, 'exact-expiry', { age_seconds: 7200 });
    const { token } = await enter(t.app, 'exact-expiry');
    clock.set(Date.parse(room.expire_at) - 1);
    expect((await get('exact-expiry', token)).statusCode).toBe(200);
    clock.set(Date.parse(room.expire_at));
    expectError(await get('exact-expiry?create=false'), 410, 'ROOM_EXPIRED');
    // The token's lifetime ends with the room's (less the leeway it is verified with): refused too.
    const late = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/exact-expiry/messages',
      headers: bearer(token),
      payload: { text: 'too late' },
    });
    expect([401, 410]).toContain(late.statusCode);
  });

  it('Share off hands the caller a session for the new address; the old token no longer works', async () => {
    await createRoom(t.app, 'share-owner');
    const { token } = await enter(t.app, 'share-owner');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/share-owner/permissions',
      headers: bearer(token),
      payload: { edit: true, share: false, delete: true },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = UpdatePermissionsResponse.parse(res.json());
    expect(body.slug).toMatch(/^share-owner_/);
    expect(body.session?.claims.room_name).toBe(body.slug);
    expect(body.session?.claims.permission).toBe(1 | 2 | 8);
    expect(body.session?.refresh_token).toBeTruthy();
    const posted = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${body.slug}/messages`,
      headers: bearer(body.session!.token),
      payload: { text: 'still here' },
    });
    expect(posted.statusCode, posted.body).toBe(201);
    const entered = await t.app.inject({ method: 'GET', url: `/api/v1/rooms/${body.slug}` });
    expect(entered.json().current_times_entered).toBe(1); // no entry counted for the carried session
    const old = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${body.slug}/messages`,
      headers: bearer(token),
      payload: { text: 'old token' },
    });
    expect(old.statusCode).toBe(401);
    // Turning Share back on carries the session back to the public address.
    const back = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${body.slug}/permissions`,
      headers: bearer(body.session!.token),
      payload: { edit: true, share: true, delete: true },
    });
    const restored = UpdatePermissionsResponse.parse(back.json());
    expect(restored.slug).toBe('share-owner');
    expect(restored.session?.claims.room_name).toBe('share-owner');
    // Unchanged address: no new session.
    const same = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/share-owner/permissions',
      headers: bearer(restored.session!.token),
      payload: { edit: false, share: true, delete: true },
    });
    expect(UpdatePermissionsResponse.parse(same.json()).session).toBeUndefined();
  });
});
