import { RoomView } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

describeEachDatabase('rooms', (engine) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
  beforeAll(async () => {
    t = await createTestApp({ engine, clock, env: { ROOM_LIMIT_MAX_SIZE: '1GiB' } });
  });
  afterAll(() => t.close());

  describe('POST /rooms/{name}', () => {
    it('creates a room with the defaults and returns RoomView without secrets', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/rooms/plain-room', payload: {} });
      expect(res.statusCode).toBe(201);
      const room = RoomView.parse(res.json());
      expect(room).toMatchObject({
        name: 'plain-room',
        slug: 'plain-room',
        status: 'open',
        password_protected: false,
        permission: 15,
        max_size: 50 * 1024 * 1024,
        current_size: 0,
        max_times_entered: 100,
        current_times_entered: 0,
        expire_at: '2026-11-28T12:00:00.000Z',
        created_at: '2026-11-28T10:00:00.000Z',
      });
      expect(res.body).not.toMatch(/hash|argon/);
    });

    it('takes password, age and limits within the caps', async () => {
      const room = await createRoom(t.app, 'options-room', {
        password: 'hunter22',
        age_seconds: 86400,
        max_times_entered: 5,
        max_size: 200 * 1024 * 1024,
      });
      expect(room).toMatchObject({
        password_protected: true,
        max_times_entered: 5,
        max_size: 200 * 1024 * 1024,
        expire_at: '2026-11-29T10:00:00.000Z',
      });
    });

    it('accepts Unicode names and normalises them to NFC', async () => {
      const room = await createRoom(t.app, '项目-2026');
      expect(room.name).toBe('项目-2026');
      const decomposed = 'cafe\u0301-room';
      const created = await createRoom(t.app, decomposed);
      expect(created.name).toBe('caf\u00e9-room');
      const found = await t.app.inject({
        method: 'GET',
        url: `/api/v1/rooms/${encodeURIComponent('caf\u00e9-room')}`,
      });
      expect(found.json().id).toBe(created.id);
    });

    it('409 when the name exists', async () => {
      await createRoom(t.app, 'taken-room');
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/rooms/taken-room', payload: {} });
      expectError(res, 409, 'CONFLICT');
    });

    it.each([
      ['ab', 'too short'],
      ['a'.repeat(51), 'too long'],
      ['-leading', 'bad edge'],
      ['trailing_', 'bad edge'],
      ['with space', 'space'],
      ['..%2F..%2Fetc', 'traversal'],
      ['semi;colon', 'punctuation'],
      ['api', 'reserved: /api is the API'],
      ['metrics', 'reserved: /metrics is the metrics endpoint'],
    ])('400 for the name %j (%s)', async (name) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${name.includes('%') ? name : encodeURIComponent(name)}`,
        payload: {},
      });
      expectError(res, 400, 'VALIDATION_ERROR');
    });

    it.each<[Record<string, unknown>, string]>([
      [{ password: 'abc' }, 'password too short'],
      [{ password: 'x'.repeat(101) }, 'password too long'],
      [{ age_seconds: 12345 }, 'age not allowed'],
      [{ max_size: 2 * 1024 * 1024 * 1024 }, 'over the size cap'],
      [{ max_times_entered: 2_000_000 }, 'over the entry cap'],
      [{ max_size: 'big' }, 'wrong type'],
      [{ max_times_entered: -1 }, 'negative'],
    ])('400 for %j (%s)', async (body) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/rooms/bad-options', payload: body });
      expectError(res, 400, 'VALIDATION_ERROR');
    });

    it('a blank password means no password', async () => {
      const room = await createRoom(t.app, 'blank-pass', { password: '   ' });
      expect(room.password_protected).toBe(false);
    });
  });

  describe('GET /rooms/{name}', () => {
    it('does not create a room under a reserved name (the browser could never open /api)', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/api' });
      expectError(res, 400, 'VALIDATION_ERROR');
      expect(res.json().error.message).toMatch(/reserved/);
    });

    it('creates the room on the first visit and finds it afterwards, without counting entries', async () => {
      const first = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/zero-step' });
      expect(first.statusCode).toBe(200);
      const second = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/zero-step' });
      expect(second.json().id).toBe(first.json().id);
      expect(second.json().current_times_entered).toBe(0);
    });

    it('50 concurrent first visits create exactly one room', async () => {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => t.app.inject({ method: 'GET', url: '/api/v1/rooms/stampede-room' })),
      );
      expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
      expect(new Set(responses.map((r) => r.json().id)).size).toBe(1);
    });

    it('410 for an expired room', async () => {
      await createRoom(t.app, 'short-lived', { age_seconds: 60 });
      clock.advance(61_000);
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/short-lived' });
      expectError(res, 410, 'ROOM_EXPIRED');
    });

    it('401 ROOM_NOT_ENTERABLE when the entry limit is reached', async () => {
      await createRoom(t.app, 'tiny-room', { max_times_entered: 1 });
      await enter(t.app, 'tiny-room');
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/tiny-room' });
      expectError(res, 401, 'ROOM_NOT_ENTERABLE');
    });
  });

  describe('DELETE /rooms/{name}', () => {
    it('401 without a token, before anything else', async () => {
      const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/rooms/no-such-room-at-all' });
      expectError(res, 401, 'AUTHENTICATION_FAILED');
    });

    it('deletes the room and its sessions; the name can be used again', async () => {
      const created = await createRoom(t.app, 'doomed-room');
      const { token } = await enter(t.app, 'doomed-room');
      const res = await t.app.inject({
        method: 'DELETE',
        url: '/api/v1/rooms/doomed-room',
        headers: bearer(token),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ deleted: true });
      const sessions = await t.database.db
        .selectFrom('sessions')
        .select('jti')
        .where('room_id', '=', created.id)
        .execute();
      expect(sessions).toEqual([]);
      const again = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/doomed-room' });
      expect(again.statusCode).toBe(200);
      expect(again.json().id).not.toBe(created.id);
      const stale = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/doomed-room/tokens',
        headers: bearer(token),
      });
      expectError(stale, 401, 'AUTHENTICATION_FAILED');
    });
  });

  describe('POST /rooms/{name}/permissions', () => {
    it('clearing SHARE moves the room to a private address and reserves the name', async () => {
      await createRoom(t.app, 'secret-room');
      const { token } = await enter(t.app, 'secret-room');
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/secret-room/permissions',
        headers: bearer(token),
        payload: { edit: true, share: false, delete: true },
      });
      expect(res.statusCode).toBe(200);
      const room = RoomView.parse(res.json());
      expect(room.permission).toBe(1 | 2 | 8);
      expect(room.slug).toMatch(/^secret-room_[A-Za-z0-9]{12}$/);
      expect(room.name).toBe('secret-room');

      expectError(
        await t.app.inject({ method: 'GET', url: '/api/v1/rooms/secret-room' }),
        401,
        'ROOM_NOT_ENTERABLE',
      );
      expectError(
        await t.app.inject({ method: 'POST', url: '/api/v1/rooms/secret-room', payload: {} }),
        409,
        'CONFLICT',
      );
      const atPrivate = await t.app.inject({ method: 'GET', url: `/api/v1/rooms/${room.slug}` });
      expect(atPrivate.json().id).toBe(room.id);

      // the old token names the old address: it no longer opens anything
      expectError(
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/rooms/secret-room/tokens',
          headers: bearer(token),
        }),
        404,
        'ROOM_NOT_FOUND',
      );

      // a new session at the private address can restore SHARE
      const { token: privateToken } = await enter(t.app, room.slug);
      const restored = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${room.slug}/permissions`,
        headers: bearer(privateToken),
        payload: { edit: true, share: true, delete: true },
      });
      expect(restored.json()).toMatchObject({ slug: 'secret-room', permission: 15 });
    });

    it('a session keeps managing a room after the room lost DELETE (no lock-out)', async () => {
      await createRoom(t.app, 'lockout-room');
      const { token } = await enter(t.app, 'lockout-room');
      const cleared = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/lockout-room/permissions',
        headers: bearer(token),
        payload: { edit: true, share: true, delete: false },
      });
      expect(cleared.json().permission).toBe(1 | 2 | 4);
      const restored = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/lockout-room/permissions',
        headers: bearer(token),
        payload: { edit: true, share: true, delete: true },
      });
      expect(restored.statusCode).toBe(200);
      expect(restored.json().permission).toBe(15);
    });

    it('a session opened while the room lacked DELETE cannot manage it', async () => {
      await createRoom(t.app, 'no-manage-room');
      const { token: owner } = await enter(t.app, 'no-manage-room');
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/no-manage-room/permissions',
        headers: bearer(owner),
        payload: { edit: true, share: true, delete: false },
      });
      const { token: guest } = await enter(t.app, 'no-manage-room');
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/no-manage-room/permissions',
        headers: bearer(guest),
        payload: { edit: true, share: true, delete: true },
      });
      expectError(res, 403, 'PERMISSION_DENIED');
    });
  });

  describe('PUT /rooms/{name}/settings', () => {
    it('changes expiry and limits, refusing values below usage or above the caps', async () => {
      await createRoom(t.app, 'settings-room');
      const { token } = await enter(t.app, 'settings-room');
      const ok = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/rooms/settings-room/settings',
        headers: bearer(token),
        payload: { age_seconds: 604800, max_times_entered: 3, max_size: 1024 },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ max_times_entered: 3, max_size: 1024 });
      expect(Date.parse(ok.json().expire_at) - clock.now()).toBe(604800 * 1000);

      for (const payload of [
        { max_times_entered: 0 },
        { age_seconds: 999 },
        { password: '' },
        { password: 'abcd', remove_password: true },
        { max_size: 2 * 1024 * 1024 * 1024 },
      ]) {
        const res = await t.app.inject({
          method: 'PUT',
          url: '/api/v1/rooms/settings-room/settings',
          headers: bearer(token),
          payload,
        });
        expectError(res, 400, 'VALIDATION_ERROR');
      }
    });

    it('a password change revokes every other session but keeps the caller', async () => {
      await createRoom(t.app, 'rekey-room');
      const { token: owner } = await enter(t.app, 'rekey-room');
      const { token: other } = await enter(t.app, 'rekey-room', { with_refresh_token: true });
      const res = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/rooms/rekey-room/settings',
        headers: bearer(owner),
        payload: { password: 'new-password' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().password_protected).toBe(true);
      const mine = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/rekey-room/tokens',
        headers: bearer(owner),
      });
      expect(mine.statusCode).toBe(200);
      expectError(
        await t.app.inject({ method: 'GET', url: '/api/v1/rooms/rekey-room/tokens', headers: bearer(other) }),
        401,
        'AUTHENTICATION_FAILED',
      );
      expectError(
        await t.app.inject({ method: 'POST', url: '/api/v1/rooms/rekey-room/tokens', payload: {} }),
        401,
        'AUTHENTICATION_FAILED',
      );
      await enter(t.app, 'rekey-room', { password: 'new-password' });
    });
  });
});
