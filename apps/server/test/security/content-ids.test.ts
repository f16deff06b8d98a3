/**
 * Issue 16 item 13: a request with a bad token must not tell an existing content id from a
 * missing one (it used to get 401 for existing ids and 404 for missing ones). Every route that
 * takes a content id answers the same for both, for every kind of bad token.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';
import { uploadOneShot } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter } from '../support/rooms.js';

describeEachDatabase('content ids answer the same for a bad token, existing or not', (engine) => {
  let t: TestApp;
  let fileId: number;
  let messageId: number;
  const missing = 987_654;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ engine });
    await createRoom(t.app, 'ids-home');
    await createRoom(t.app, 'ids-other');
    const owner = await enter(t.app, 'ids-home');
    const upload = await uploadOneShot(t.app, 'ids-home', owner.token, [
      { name: 'a.txt', content: Buffer.from('hello') },
    ]);
    expect(upload.statusCode, upload.body).toBe(201);
    fileId = upload.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    const message = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/ids-home/messages',
      headers: bearer(owner.token),
      payload: { text: 'hi' },
    });
    expect(message.statusCode, message.body).toBe(201);
    messageId = message.json<{ message: { id: number } }>().message.id;

    tokens.garbage = 'not-a-token';
    tokens.otherRoom = (await enter(t.app, 'ids-other')).token;
    const revoked = (await enter(t.app, 'ids-home')).token;
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { access_token: revoked },
    });
    expect(logout.statusCode, logout.body).toBe(200);
    tokens.revoked = revoked;
  });
  afterAll(() => t.close());

  const requests: Record<string, (id: number, token: string) => Promise<LightMyRequestResponse>> = {
    'GET /contents/{id}': (id, token) =>
      t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}?token=${token}` }),
    'GET /contents/{id} (bearer)': (id, token) =>
      t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}`, headers: bearer(token) }),
    'HEAD /contents/{id}': (id, token) =>
      t.app.inject({ method: 'HEAD', url: `/api/v1/contents/${id}`, headers: bearer(token) }),
    'PUT /rooms/{name}/contents/{id}': (id, token) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/ids-home/contents/${id}`,
        headers: bearer(token),
        payload: { text: 'changed' },
      }),
    'DELETE /rooms/{name}/contents': (id, token) =>
      t.app.inject({
        method: 'DELETE',
        url: '/api/v1/rooms/ids-home/contents',
        headers: bearer(token),
        payload: { ids: [id] },
      }),
    'GET /rooms/{name}/archive?ids=': (id, token) =>
      t.app.inject({
        method: 'GET',
        url: `/api/v1/rooms/ids-home/archive?ids=${id}`,
        headers: bearer(token),
      }),
  };

  const answer = (res: LightMyRequestResponse) => ({
    status: res.statusCode,
    code: res.body ? res.json<{ error?: { code: string } }>().error?.code : undefined,
  });

  for (const [route, send] of Object.entries(requests)) {
    it(route, async () => {
      for (const kind of ['garbage', 'otherRoom', 'revoked']) {
        const token = tokens[kind]!;
        const forMissing = answer(await send(missing, token));
        for (const id of [fileId, messageId]) {
          const forExisting = answer(await send(id, token));
          expect({ kind, id, ...forExisting }).toEqual({ kind, id, ...forMissing });
          expect(forExisting.status).toBeGreaterThanOrEqual(400);
        }
      }
    });
  }
});
