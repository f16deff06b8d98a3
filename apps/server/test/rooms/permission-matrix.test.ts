import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

const VIEW = 1;
const DELETE = 8;

interface RouteCase {
  name: string;
  /** The request, for a room and a valid token of it. */
  send: (t: TestApp, room: string, token: string, jti: string) => Promise<LightMyRequestResponse>;
  /** Status on success. */
  ok: number;
}

const ROUTES: RouteCase[] = [
  {
    name: 'PUT settings',
    ok: 200,
    send: (t, room, token) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/${room}/settings`,
        headers: bearer(token),
        payload: { max_times_entered: 50 },
      }),
  },
  {
    name: 'POST permissions',
    ok: 200,
    send: (t, room, token) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${room}/permissions`,
        headers: bearer(token),
        payload: { edit: true, share: true, delete: false },
      }),
  },
  {
    name: 'GET tokens',
    ok: 200,
    send: (t, room, token) =>
      t.app.inject({ method: 'GET', url: `/api/v1/rooms/${room}/tokens`, headers: bearer(token) }),
  },
  {
    name: 'DELETE tokens/{jti}',
    ok: 200,
    send: (t, room, token, jti) =>
      t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room}/tokens/${jti}`, headers: bearer(token) }),
  },
  {
    name: 'DELETE room',
    ok: 200,
    send: (t, room, token) =>
      t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room}`, headers: bearer(token) }),
  },
];

type Setup = 'full' | 'room lacks DELETE' | 'token lacks DELETE' | 'room lacks VIEW' | 'token lacks VIEW';
const EXPECTED: Record<Setup, 'ok' | 403> = {
  full: 'ok',
  // management needs DELETE in the token only
  'room lacks DELETE': 'ok',
  'token lacks DELETE': 403,
  'room lacks VIEW': 403,
  'token lacks VIEW': 403,
};

describeEachDatabase('permission matrix for room and session routes', (engine) => {
  let t: TestApp;
  let counter = 0;
  beforeAll(async () => {
    t = await createTestApp({ engine });
  });
  afterAll(() => t.close());

  const setPermission = (name: string, permission: number) =>
    t.database.db.updateTable('rooms').set({ permission }).where('name', '=', name).execute();

  /** A fresh room and a token whose bits match the setup. */
  async function prepare(setup: Setup): Promise<{ room: string; token: string; jti: string }> {
    const room = `matrix-${++counter}`;
    await createRoom(t.app, room);
    if (setup === 'token lacks DELETE') await setPermission(room, 15 & ~DELETE);
    if (setup === 'token lacks VIEW') await setPermission(room, 15 & ~VIEW);
    const session = await enter(t.app, room);
    const victim = await enter(t.app, room);
    await setPermission(room, 15);
    if (setup === 'room lacks DELETE') await setPermission(room, 15 & ~DELETE);
    if (setup === 'room lacks VIEW') await setPermission(room, 15 & ~VIEW);
    return { room, token: session.token, jti: victim.claims.jti };
  }

  for (const route of ROUTES) {
    describe(route.name, () => {
      for (const setup of Object.keys(EXPECTED) as Setup[]) {
        it(`${setup} → ${EXPECTED[setup]}`, async () => {
          const { room, token, jti } = await prepare(setup);
          const res = await route.send(t, room, token, jti);
          if (EXPECTED[setup] === 'ok') expect(res.statusCode, res.body).toBe(route.ok);
          else expectError(res, 403, 'PERMISSION_DENIED');
        });
      }
      it('no token → 401', async () => {
        const { room } = await prepare('full');
        expectError(await route.send(t, room, '', 'x'), 401, 'AUTHENTICATION_FAILED');
      });
    });
  }
});
