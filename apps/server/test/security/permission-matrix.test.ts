/**
 * QUALITY.md "Security": every content, upload, download, archive and WebSocket route × every
 * permission bit × missing in the room or in the token. Content routes need VIEW and their
 * bit in both the room and the token (API.md §1 "Management rule"); management routes need
 * DELETE in the token only (rooms/permission-matrix.test.ts covers those in depth; here the
 * SHARE and EDIT bits are added to show they are not required). The operator routes (admin API,
 * /metrics) × every credential: each accepts its own token and nothing else, and room routes
 * do not take the operator tokens.
 */
import { WS_CLOSE } from '@elizabeth/protocol';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WsClient } from '../realtime/ws-client.js';
import { expectQuotaInvariant } from '../support/contents.js';
import { createRoom, enter, expectError } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';
import {
  CONTENT_ROUTES,
  DELETE,
  EDIT,
  MANAGEMENT_ROUTES,
  roomFixture,
  type RoomFixture,
  SHARE,
  type TokenRoute,
  VIEW,
} from './routes.js';

const BITS = { VIEW, EDIT, SHARE, DELETE } as const;
type Where = 'room' | 'token';

describe('permission matrix: every route × every bit × room/token', () => {
  let t: LoggedApp;
  let wsUrl: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn', configure: (c) => (c.middleware.rate_limit.enabled = false) });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    wsUrl = `ws://127.0.0.1:${address.port}/api/v1/ws`;
  });
  afterAll(() => t.close());

  const setPermission = (roomId: number, permission: number) =>
    t.database.db.updateTable('rooms').set({ permission }).where('id', '=', roomId).execute();

  /** A fixture whose acting token (and room) lack `bit` where asked. */
  async function prepare(bit: number, where: Where): Promise<RoomFixture> {
    const f = await roomFixture(t.app, 'pm');
    if (where === 'token') {
      await setPermission(f.roomId, 15 & ~bit);
      const session = await enter(t.app, f.room);
      await setPermission(f.roomId, 15);
      expect(session.claims.permission).toBe(15 & ~bit);
      return { ...f, token: session.token };
    }
    await setPermission(f.roomId, 15 & ~bit);
    return f;
  }

  function expected(route: TokenRoute, bit: number, where: Where, management: boolean): 'ok' | 403 {
    if (management) return where === 'token' && (bit === DELETE || bit === VIEW) ? 403 : 'ok';
    return bit === VIEW || bit === route.bit ? 403 : 'ok';
  }

  for (const [management, routes] of [
    [false, CONTENT_ROUTES],
    [true, MANAGEMENT_ROUTES],
  ] as const) {
    for (const route of routes) {
      describe(route.name, () => {
        for (const [bitName, bit] of Object.entries(BITS)) {
          for (const where of ['room', 'token'] as const) {
            // VIEW is checked on every route before anything else (room or token).
            const want =
              management && bit === VIEW && where === 'room' ? 403 : expected(route, bit, where, management);
            it(`${where} lacks ${bitName} → ${want}`, async () => {
              const f = await prepare(bit, where);
              const res = await route.send(t.app, f, { authorization: `Bearer ${f.token}` });
              if (want === 'ok') expect(res.statusCode, res.body).toBe(route.ok);
              else if (route.name.startsWith('HEAD')) expect(res.statusCode).toBe(403);
              else expectError(res, 403, 'PERMISSION_DENIED');
              const exists = await t.database.db
                .selectFrom('rooms')
                .select('id')
                .where('id', '=', f.roomId)
                .executeTakeFirst();
              if (exists) await expectQuotaInvariant(t.database, f.roomId);
            });
          }
        }
      });
    }
  }

  describe('WebSocket connect', () => {
    for (const [bitName, bit] of Object.entries(BITS)) {
      for (const where of ['room', 'token'] as const) {
        const want = bit === VIEW ? 'refused' : 'accepted';
        it(`${where} lacks ${bitName} → ${want}`, async () => {
          const f = await prepare(bit, where);
          const ws = await WsClient.open(wsUrl);
          ws.send({ message_type: 'connect', payload: { token: f.token, room_name: f.room } });
          const frame = await ws.next();
          if (want === 'accepted') {
            expect(frame.message_type).toBe('connect_ack');
            ws.socket.close();
          } else {
            expect(frame.message_type).toBe('error');
            expect((await ws.closed).code).toBe(WS_CLOSE.PERMISSION_DENIED);
          }
        });
      }
    }
  });

  it('logged no error while refusing', () => {
    expect(t.logs.errors()).toEqual([]);
  });
});

describe('operator routes × every credential', () => {
  const ADMIN = 'matrix-admin-token-0123456789-abcdef';
  const METRICS = 'matrix-metrics-token-0123456789-abcdef';
  let t: LoggedApp;
  let f: RoomFixture;
  let rooms = 0;
  beforeAll(async () => {
    t = await createLoggedApp({
      level: 'warn',
      configure: (c) => {
        c.middleware.rate_limit.enabled = false;
        c.admin.token = ADMIN;
        c.metrics.enabled = true;
        c.metrics.token = METRICS;
      },
    });
    f = await roomFixture(t.app, 'op');
  });
  afterAll(() => t.close());

  type Credential = 'none' | 'admin' | 'metrics' | 'room access' | 'room refresh';
  const CREDENTIALS: Credential[] = ['none', 'admin', 'metrics', 'room access', 'room refresh'];
  const bearerOf = (c: Credential): Record<string, string> => {
    const value = {
      none: '',
      admin: ADMIN,
      metrics: METRICS,
      'room access': f.token,
      'room refresh': f.refresh,
    }[c];
    return value ? { authorization: `Bearer ${value}` } : {};
  };

  const ROUTES: Array<{
    name: string;
    accepts: Credential;
    send: (auth: Record<string, string>) => Promise<LightMyRequestResponse>;
  }> = [
    {
      name: 'GET /admin/rooms',
      accepts: 'admin',
      send: (auth) => t.app.inject({ url: '/api/v1/admin/rooms', headers: auth }),
    },
    {
      name: 'DELETE /admin/rooms/{slug}',
      accepts: 'admin',
      send: async (auth) => {
        const room = `op-doomed-${++rooms}`;
        await createRoom(t.app, room);
        return t.app.inject({ method: 'DELETE', url: `/api/v1/admin/rooms/${room}`, headers: auth });
      },
    },
    {
      name: 'POST /admin/gc',
      accepts: 'admin',
      send: (auth) => t.app.inject({ method: 'POST', url: '/api/v1/admin/gc', headers: auth }),
    },
    {
      name: 'DELETE /admin/auth/cleanup',
      accepts: 'admin',
      send: (auth) => t.app.inject({ method: 'DELETE', url: '/api/v1/admin/auth/cleanup', headers: auth }),
    },
    {
      name: 'GET /metrics',
      accepts: 'metrics',
      send: (auth) => t.app.inject({ url: '/metrics', headers: auth }),
    },
  ];

  for (const route of ROUTES) {
    describe(route.name, () => {
      for (const credential of CREDENTIALS) {
        const want = credential === route.accepts ? 200 : 401;
        it(`${credential} → ${want}`, async () => {
          const res = await route.send(bearerOf(credential));
          if (want === 200) expect(res.statusCode, res.body).toBe(200);
          else expectError(res, 401, 'AUTHENTICATION_FAILED');
        });
      }
      it('its token anywhere but a Bearer header → 401', async () => {
        const token = route.accepts === 'admin' ? ADMIN : METRICS;
        const misplaced: Array<Record<string, string>> = [
          { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` },
          { authorization: token },
          { authorization: `Bearer ${token} extra` },
          { cookie: `token=${token}` },
          { 'x-admin-token': token },
        ];
        for (const headers of misplaced) {
          expectError(await route.send(headers), 401, 'AUTHENTICATION_FAILED');
        }
      });
    });
  }

  it('room routes take no operator token', async () => {
    for (const token of [ADMIN, METRICS]) {
      const auth = { authorization: `Bearer ${token}` };
      expectError(
        await t.app.inject({ url: `/api/v1/rooms/${f.room}/contents`, headers: auth }),
        401,
        'AUTHENTICATION_FAILED',
      );
      expectError(
        await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${f.room}`, headers: auth }),
        401,
        'AUTHENTICATION_FAILED',
      );
    }
  });
});
