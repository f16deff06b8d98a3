import { IssueTokenResponse, RefreshResponse, SessionView } from '@elizabeth/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { createTestApp, type TestApp, TEST_JWT_SECRET } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describeEachDatabase('sessions', (engine) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
  beforeAll(async () => {
    t = await createTestApp({ engine, clock, env: { AUTH_PASSWORD_ATTEMPTS_MAX: '3' } });
  });
  afterAll(() => t.close());

  describe('POST /rooms/{name}/tokens', () => {
    it('issues a session token with claims, capped at the room expiry', async () => {
      const room = await createRoom(t.app, 'enter-room', { age_seconds: 1800 });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/rooms/enter-room/tokens', payload: {} });
      expect(res.statusCode).toBe(200);
      const body = IssueTokenResponse.parse(res.json());
      expect(body.claims).toMatchObject({
        room_id: room.id,
        room_name: 'enter-room',
        permission: 15,
        token_type: 'access',
      });
      // TTL is 2 h but the room lives 30 min: expiry = room expiry - 5 s leeway
      expect(body.expires_at).toBe('2026-11-28T10:29:55.000Z');
      expect(body.refresh_token).toBeUndefined();
      const after = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/enter-room' });
      expect(after.json().current_times_entered).toBe(1);
    });

    it('404 for a room that does not exist (no auto-create here)', async () => {
      expectError(
        await t.app.inject({ method: 'POST', url: '/api/v1/rooms/ghost-room/tokens', payload: {} }),
        404,
        'ROOM_NOT_FOUND',
      );
    });

    it('wrong then right password; guesses are rate-limited per client with Retry-After', async () => {
      await createRoom(t.app, 'locked-room', { password: 'correct horse' });
      expectError(
        await t.app.inject({ method: 'POST', url: '/api/v1/rooms/locked-room/tokens', payload: {} }),
        401,
        'AUTHENTICATION_FAILED',
      );
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/locked-room/tokens',
          payload: { password: 'wrong' },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      const ok = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/locked-room/tokens',
        payload: { password: 'correct horse' },
      });
      expect(ok.statusCode).toBe(200);
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/locked-room/password/verify',
          payload: { password: 'nope' },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/locked-room/password/verify',
          payload: { password: 'nope again' },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      // three wrong passwords used the allowance (a missing one is not a guess and costs
      // nothing): even the right password waits now
      const limited = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/locked-room/password/verify',
        payload: { password: 'correct horse' },
      });
      expectError(limited, 429, 'RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // another client is not affected
      const other = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/locked-room/password/verify',
        payload: { password: 'correct horse' },
        remoteAddress: '10.1.2.3',
      });
      expect(other.json()).toEqual({ valid: true });
      clock.advance(61_000);
      const later = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/locked-room/password/verify',
        payload: { password: 'correct horse' },
      });
      expect(later.json()).toEqual({ valid: true });
    });

    it('30 concurrent new sessions against an entry limit of 10 grant exactly 10', async () => {
      await createRoom(t.app, 'limited-room', { max_times_entered: 10 });
      const responses = await Promise.all(
        Array.from({ length: 30 }, () =>
          t.app.inject({ method: 'POST', url: '/api/v1/rooms/limited-room/tokens', payload: {} }),
        ),
      );
      const codes = responses.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 200)).toHaveLength(10);
      for (const r of responses.filter((x) => x.statusCode !== 200))
        expectError(r, 401, 'ROOM_NOT_ENTERABLE');
      const room = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/limited-room' });
      expectError(room, 401, 'ROOM_NOT_ENTERABLE');
      const rows = await t.database.db
        .selectFrom('rooms')
        .select('current_times_entered')
        .where('name', '=', 'limited-room')
        .executeTakeFirstOrThrow();
      expect(rows.current_times_entered).toBe(10);
    });

    it('rotation with the previous token: no entry counted, old session revoked, refresh token carried over', async () => {
      await createRoom(t.app, 'rotate-room', { max_times_entered: 1 });
      const first = await enter(t.app, 'rotate-room', { with_refresh_token: true });
      const rotated = await enter(t.app, 'rotate-room', { token: first.token });
      expect(rotated.claims.jti).not.toBe(first.claims.jti);
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/rotate-room/tokens/validate',
          payload: { token: first.token },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      expect(refreshed.statusCode).toBe(200);
    });
  });

  describe('validate, list, revoke, logout', () => {
    it('validate returns the claims', async () => {
      await createRoom(t.app, 'validate-room');
      const { token, claims } = await enter(t.app, 'validate-room');
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/validate-room/tokens/validate',
        payload: { token },
      });
      expect(res.json().claims.jti).toBe(claims.jti);
    });

    it('lists sessions newest first; revoking one ends only that one', async () => {
      await createRoom(t.app, 'manage-room');
      const a = await enter(t.app, 'manage-room');
      clock.advance(1000);
      const b = await enter(t.app, 'manage-room');
      const list = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/manage-room/tokens',
        headers: bearer(a.token),
      });
      const sessions = list.json().map((s: unknown) => SessionView.parse(s));
      expect(sessions.map((s: SessionView) => s.jti)).toEqual([b.claims.jti, a.claims.jti]);

      const revoke = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/manage-room/tokens/${b.claims.jti}`,
        headers: bearer(a.token),
      });
      expect(revoke.json()).toEqual({ revoked: true });
      const again = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/manage-room/tokens/${b.claims.jti}`,
        headers: bearer(a.token),
      });
      expect(again.json()).toEqual({ revoked: false });
      expectError(
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/rooms/manage-room/tokens',
          headers: bearer(b.token),
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      const active = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/manage-room/tokens',
        headers: bearer(a.token),
      });
      expect(active.json().map((s: SessionView) => s.jti)).toEqual([a.claims.jti]);
      const all = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/manage-room/tokens?include_inactive=true',
        headers: bearer(a.token),
      });
      expect(all.json()).toHaveLength(2);
      expect(all.json()[0].revoked_at).not.toBeNull();
    });

    it('revoking an unknown jti or one of another room is 404', async () => {
      await createRoom(t.app, 'room-one');
      await createRoom(t.app, 'room-two');
      const one = await enter(t.app, 'room-one');
      const two = await enter(t.app, 'room-two');
      for (const jti of ['nope', two.claims.jti]) {
        expectError(
          await t.app.inject({
            method: 'DELETE',
            url: `/api/v1/rooms/room-one/tokens/${jti}`,
            headers: bearer(one.token),
          }),
          404,
          'NOT_FOUND',
        );
      }
    });

    it('logout ends the session and its refresh tokens', async () => {
      await createRoom(t.app, 'logout-room');
      const s = await enter(t.app, 'logout-room', { with_refresh_token: true });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        payload: { access_token: s.token },
      });
      expect(res.json()).toEqual({ revoked: true });
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/logout-room/tokens/validate',
          payload: { token: s.token },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: s.refresh_token },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
    });
  });

  describe('refresh tokens', () => {
    it('rotate on use; a used refresh token never works again', async () => {
      await createRoom(t.app, 'refresh-room');
      const s = await enter(t.app, 'refresh-room', { with_refresh_token: true });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: s.refresh_token },
      });
      expect(res.statusCode).toBe(200);
      const next = RefreshResponse.parse(res.json());
      expect(next.refresh_token).not.toBe(s.refresh_token);
      // the old access token's session is replaced
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/refresh-room/tokens/validate',
          payload: { token: s.token },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      const valid = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/refresh-room/tokens/validate',
        payload: { token: next.access_token },
      });
      expect(valid.statusCode).toBe(200);
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: s.refresh_token },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      const chained = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: next.refresh_token },
      });
      expect(chained.statusCode).toBe(200);
    });

    it('two concurrent uses of one refresh token: exactly one wins', async () => {
      await createRoom(t.app, 'race-room');
      const s = await enter(t.app, 'race-room', { with_refresh_token: true });
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.app.inject({
            method: 'POST',
            url: '/api/v1/auth/refresh',
            payload: { refresh_token: s.refresh_token },
          }),
        ),
      );
      expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
      for (const r of results.filter((x) => x.statusCode !== 200))
        expectError(r, 401, 'AUTHENTICATION_FAILED');
    });

    it('a refresh token is not an access token and vice versa', async () => {
      await createRoom(t.app, 'types-room');
      const s = await enter(t.app, 'types-room', { with_refresh_token: true });
      expectError(
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/rooms/types-room/tokens',
          headers: bearer(s.refresh_token!),
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
      expectError(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: s.token },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
    });
  });

  describe('token attacks', () => {
    let token: string;
    let claims: Record<string, unknown>;
    beforeAll(async () => {
      await createRoom(t.app, 'target-room');
      await createRoom(t.app, 'other-room');
      const s = await enter(t.app, 'target-room');
      token = s.token;
      claims = s.claims;
    });

    const listWith = (value: string) =>
      t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/target-room/tokens',
        headers: { authorization: `Bearer ${value}` },
      });

    it('accepts the genuine token (header and ?token=)', async () => {
      expect((await listWith(token)).statusCode).toBe(200);
      const viaQuery = await t.app.inject({
        method: 'GET',
        url: `/api/v1/rooms/target-room/tokens?token=${token}`,
      });
      expect(viaQuery.statusCode).toBe(200);
    });

    it('rejects a forged signature', async () => {
      const forged = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('x'.repeat(40)));
      expectError(await listWith(forged), 401, 'AUTHENTICATION_FAILED');
    });

    it('rejects alg:none', async () => {
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, permission: 15 })}.`;
      expectError(await listWith(none), 401, 'AUTHENTICATION_FAILED');
    });

    it('rejects a token with elevated claims re-signed by someone without the key', async () => {
      const [header, , signature] = token.split('.');
      const tampered = `${header}.${b64({ ...claims, room_name: 'other-room' })}.${signature}`;
      expectError(await listWith(tampered), 401, 'AUTHENTICATION_FAILED');
    });

    it('rejects a validly signed token for another room', async () => {
      const other = await enter(t.app, 'other-room');
      expectError(await listWith(other.token), 401, 'AUTHENTICATION_FAILED');
    });

    it('rejects a validly signed token whose session row does not exist', async () => {
      const orphan = await new SignJWT({ ...claims, jti: 'never-issued' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      expectError(await listWith(orphan), 401, 'AUTHENTICATION_FAILED');
    });

    it('rejects garbage, empty and oversized tokens with the envelope', async () => {
      for (const value of ['abc', 'a.b.c', '...', 'x'.repeat(5000)])
        expectError(await listWith(value), 401, 'AUTHENTICATION_FAILED');
      expectError(
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/rooms/target-room/tokens',
          headers: { authorization: 'Basic abc' },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
    });

    it('rejects an expired token', async () => {
      clock.advance(3 * 3_600_000);
      expectError(await listWith(token), 401, 'AUTHENTICATION_FAILED');
    });
  });
});
