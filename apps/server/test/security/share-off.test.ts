/**
 * Issue 16 item 5: clearing SHARE moves the room to a private address; nobody who held a
 * session for the public address may learn the private one, through a refresh token either.
 * Only the caller keeps access: the move's answer carries its session over to the private
 * address (issue 17), and that session's refresh token works.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

describeEachDatabase('share off revokes every other session', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ engine });
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: refreshToken } });

  it("a guest's refresh token no longer works after the move; the manager's carried session does", async () => {
    await createRoom(t.app, 'going-private');
    const manager = await enter(t.app, 'going-private', { with_refresh_token: true });
    const guest = await enter(t.app, 'going-private', { with_refresh_token: true });
    const moved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/going-private/permissions',
      headers: bearer(manager.token),
      payload: { edit: true, share: false, delete: true },
    });
    expect(moved.statusCode).toBe(200);
    const { slug, session } = moved.json<{ slug: string; session: { refresh_token: string } }>();
    expect(slug).not.toBe('going-private');

    const stolen = await refresh(guest.refresh_token!);
    expectError(stolen, 401, 'AUTHENTICATION_FAILED');
    expect(stolen.body).not.toContain(slug);

    // the manager's old session was replaced by the carried one
    expectError(await refresh(manager.refresh_token!), 401, 'AUTHENTICATION_FAILED');
    const own = await refresh(session.refresh_token);
    expect(own.statusCode, own.body).toBe(200);
    const token = own.json<{ access_token: string }>().access_token;
    const sessions = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${slug}/tokens?include_inactive=true`,
      headers: bearer(token),
    });
    expect(sessions.statusCode, sessions.body).toBe(200);
    const guestSession = sessions
      .json<Array<{ jti: string; revoked_at: string | null }>>()
      .find((s) => s.jti === guest.claims.jti);
    expect(guestSession?.revoked_at).not.toBeNull();
  });
});
