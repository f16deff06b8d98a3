/**
 * QUALITY.md "Security" token attack list, on every token-protected route (HTTP and
 * WebSocket): forged signature, `alg: none`, other algorithms, expired, tampered claims,
 * unknown session, other room, revoked, logged out, refresh used as access, re-used rotated
 * refresh. Each one is a 401 envelope (the WebSocket: an error frame and close 4401).
 */
import { WS_CLOSE } from '@elizabeth/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TEST_JWT_SECRET } from '../support/app.js';
import { expectError } from '../support/rooms.js';
import { WsClient } from '../realtime/ws-client.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';
import { ALL_TOKEN_ROUTES, roomFixture, type RoomFixture } from './routes.js';

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

async function sign(claims: Record<string, unknown>, secret: string, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

type Attack = (f: RoomFixture, ctx: { other: RoomFixture; t: LoggedApp }) => Promise<string>;

/** Each builds a credential that must be refused. */
const ATTACKS: Record<string, Attack> = {
  'forged signature (other secret)': async (f) =>
    sign(decode(f.token.split('.')[1]!), 'another-secret-0123456789-abcdefghijklmnop'),
  'alg: none': (f) => {
    const [, payload] = f.token.split('.');
    return Promise.resolve(`${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`);
  },
  'alg: none with the original signature': (f) => {
    const [, payload, signature] = f.token.split('.');
    return Promise.resolve(`${encode({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`);
  },
  'HS512 with the right secret': async (f) => sign(decode(f.token.split('.')[1]!), TEST_JWT_SECRET, 'HS512'),
  'expired (right secret)': async (f) => {
    const claims = decode(f.token.split('.')[1]!);
    const now = Math.floor(Date.now() / 1000);
    return sign({ ...claims, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET);
  },
  'tampered permission claim (old signature)': (f) => {
    const [header, payload, signature] = f.token.split('.');
    const claims = decode(payload!);
    return Promise.resolve(
      `${header}.${encode({ ...claims, permission: 15, exp: Number(claims.exp) + 999 })}.${signature}`,
    );
  },
  'tampered room claim (old signature)': (f, { other }) => {
    const [header, payload, signature] = f.token.split('.');
    const claims = decode(payload!);
    return Promise.resolve(
      `${header}.${encode({ ...claims, room_id: other.roomId, room_name: other.room })}.${signature}`,
    );
  },
  'unknown session (right secret, random jti)': async (f) =>
    sign({ ...decode(f.token.split('.')[1]!), jti: '00000000-0000-4000-8000-000000000000' }, TEST_JWT_SECRET),
  "another room's valid token": async (_f, { other }) => Promise.resolve(other.token),
  'refresh token used as access': (f) => Promise.resolve(f.refresh),
  'revoked session': async (f, { t }) => {
    const victim = await roomFixtureToken(t, f);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/rooms/${f.room}/tokens/${victim.jti}`,
      headers: { authorization: `Bearer ${f.token}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return victim.token;
  },
  'logged-out session': async (f, { t }) => {
    const victim = await roomFixtureToken(t, f);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { access_token: victim.token },
    });
    expect(res.statusCode, res.body).toBe(200);
    return victim.token;
  },
  'rotated-away token': async (f, { t }) => {
    const victim = await roomFixtureToken(t, f);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${f.room}/tokens`,
      payload: { token: victim.token },
    });
    expect(res.statusCode, res.body).toBe(200);
    return victim.token;
  },
  garbage: () => Promise.resolve('not-a-jwt'),
  'empty payload JWT': async () => sign({}, TEST_JWT_SECRET),
};

async function roomFixtureToken(t: LoggedApp, f: RoomFixture): Promise<{ token: string; jti: string }> {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${f.room}/tokens`, payload: {} });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<{ token: string; claims: { jti: string } }>();
  return { token: body.token, jti: body.claims.jti };
}

describe('token attacks on every protected route', () => {
  let t: LoggedApp;
  let other: RoomFixture;
  let wsUrl: string;
  const issued: string[] = [];

  beforeAll(async () => {
    t = await createLoggedApp({ configure: (c) => (c.middleware.rate_limit.enabled = false) });
    other = await roomFixture(t.app, 'other');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    wsUrl = `ws://127.0.0.1:${address.port}/api/v1/ws`;
  });
  afterAll(() => t.close());

  for (const [attack, build] of Object.entries(ATTACKS)) {
    it(`${attack} → 401 on every route, in the header and in ?token=`, async () => {
      const f = await roomFixture(t.app);
      const bad = await build(f, { other, t });
      issued.push(bad, f.token, f.refresh);
      for (const route of ALL_TOKEN_ROUTES) {
        const res = await route.send(t.app, f, { authorization: `Bearer ${bad}` });
        if (route.name.startsWith('HEAD')) expect(res.statusCode, `${route.name}`).toBe(401);
        else expectError(res, 401, 'AUTHENTICATION_FAILED');
      }
      // Query-string transport on the routes browsers use it for.
      for (const url of [`/api/v1/contents/${f.fileId}`, `/api/v1/rooms/${f.room}/archive`]) {
        expectError(
          await t.app.inject({ url: `${url}?token=${encodeURIComponent(bad)}` }),
          401,
          'AUTHENTICATION_FAILED',
        );
      }
      // Token in the body: validate, rotation, logout.
      const validate = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/tokens/validate`,
        payload: { token: bad },
      });
      expectError(validate, 401, 'AUTHENTICATION_FAILED');
      const rotate = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${f.room}/tokens`,
        payload: { token: bad },
      });
      expectError(rotate, 401, 'AUTHENTICATION_FAILED');
      // WebSocket handshake.
      const ws = await WsClient.open(wsUrl);
      ws.send({ message_type: 'connect', payload: { token: bad, room_name: f.room } });
      const frame = await ws.next('error');
      expect(frame.payload.code).toBeDefined();
      const closed = await ws.closed;
      expect(closed.code).toBe(WS_CLOSE.AUTHENTICATION_FAILED);
      // And the real token of the room still works afterwards (nothing collateral).
      const ok = await t.app.inject({
        url: `/api/v1/rooms/${f.room}/contents`,
        headers: { authorization: `Bearer ${f.token}` },
      });
      expect(ok.statusCode, ok.body).toBe(200);
    });
  }

  it('refresh: access token as refresh, forged, and re-use of a rotated refresh token → 401', async () => {
    const f = await roomFixture(t.app);
    const refresh = (token: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } });
    expectError(await refresh(f.token), 401, 'AUTHENTICATION_FAILED');
    expectError(
      await refresh(
        await sign(decode(f.refresh.split('.')[1]!), 'another-secret-0123456789-abcdefghijklmnop'),
      ),
      401,
      'AUTHENTICATION_FAILED',
    );
    const first = await refresh(f.refresh);
    expect(first.statusCode, first.body).toBe(200);
    const rotated = first.json<{ access_token: string; refresh_token: string }>();
    issued.push(rotated.access_token, rotated.refresh_token);
    expectError(await refresh(f.refresh), 401, 'AUTHENTICATION_FAILED');
    // The rotated one works once.
    const second = await refresh(rotated.refresh_token);
    expect(second.statusCode, second.body).toBe(200);
    issued.push(second.json<{ refresh_token: string }>().refresh_token);
    expectError(await refresh(rotated.refresh_token), 401, 'AUTHENTICATION_FAILED');
  });

  it('logout of a revoked session also revokes its refresh tokens', async () => {
    const f = await roomFixture(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { access_token: f.token },
    });
    expect(res.statusCode, res.body).toBe(200);
    expectError(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: f.refresh },
      }),
      401,
      'AUTHENTICATION_FAILED',
    );
  });

  it('no token, JWT, secret or password appears in the log output of these attacks', () => {
    expect(t.logs.lines.length).toBeGreaterThan(50);
    const text = t.logs.text;
    expect(text).not.toContain(TEST_JWT_SECRET);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.eyJ/);
    for (const token of issued) expect(text.includes(token), 'a token in the logs').toBe(false);
  });
});
