/**
 * Races beyond the rooms/contents suites (QUALITY.md "Concurrency"): delete while downloading,
 * delete the room while uploading (one-shot and tus), settings change while tokens are being
 * issued, a lifecycle pass while uploading. Afterwards: no 500, quota equals contents plus live
 * reservations, every content has its bytes and no bytes lack a row.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import {
  type ContentsTestApp,
  createContentsApp,
  listen,
  sha256,
  uploadOneShot,
} from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';
import { isNotServerFault, multipartChunks, slowRequest, split } from './http.js';
import { expectConsistent, storedFiles } from './invariants.js';

const KiB = 1024;
const DELETE_ROOM_FIRST = 'x-test-delete-room-first';
type InjectPayload = InjectOptions['payload'];
const b64 = (s: string) => Buffer.from(s).toString('base64');

describeEachDatabase('races', (engine) => {
  let t: ContentsTestApp;
  let base: string;
  const clock = new ManualClock(Date.now());
  let n = 0;

  beforeAll(async () => {
    t = await createContentsApp({
      engine,
      clock,
      configure: (c) => {
        c.middleware.rate_limit.enabled = false;
        c.auth.password_attempts.max = 1000;
      },
      // A request marked so has its room deleted after it was authenticated and before its
      // handler runs: the window a concurrent DELETE falls into under load, made certain.
      beforeReady: (app) =>
        app.addHook('preHandler', async (request) => {
          if (request.headers[DELETE_ROOM_FIRST] === undefined) return;
          const { name } = request.params as { name: string };
          const res = await app.inject({
            method: 'DELETE',
            url: `/api/v1/rooms/${name}`,
            headers: { authorization: request.headers.authorization ?? '' },
          });
          expect(res.statusCode, res.body).toBe(200);
        }),
    });
    base = await listen(t.app);
  });
  afterAll(() => t.close());

  const settle = async () => {
    await t.app.lifecycle.runPass();
    return expectConsistent(t.database.db, t.config.storage.root);
  };

  /** tus creation of an upload of `length` bytes named `name` in `room`. */
  const createTus = (room: string, auth: { authorization: string }, length: number, name: string) =>
    fetch(`${base}/api/v1/rooms/${room}/uploads`, {
      method: 'POST',
      headers: {
        ...auth,
        'tus-resumable': '1.0.0',
        'upload-length': String(length),
        'upload-metadata': `filename ${b64(name)}`,
      },
    });

  async function freshRoom(body: Record<string, unknown> = {}) {
    const room = `race-${engine}-${++n}`;
    await createRoom(t.app, room, body);
    const session = await enter(
      t.app,
      room,
      typeof body.password === 'string' ? { password: body.password } : {},
    );
    return { room, token: session.token, roomId: session.claims.room_id };
  }

  it('concurrent downloads and delete of the same file: full bytes or 404, never 500', async () => {
    const { room, token } = await freshRoom();
    const data = randomBytes(768 * KiB);
    const up = await uploadOneShot(t.app, room, token, [{ name: 'big.bin', content: data }]);
    expect(up.statusCode, up.body).toBe(201);
    const id = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    const auth = { authorization: `Bearer ${token}` };
    const downloads = Array.from({ length: 8 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 2));
      const res = await fetch(`${base}/api/v1/contents/${id}`, { headers: auth });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, hash: sha256(body), body };
    });
    const deletion = (async () => {
      await new Promise((r) => setTimeout(r, 5));
      return fetch(`${base}/api/v1/rooms/${room}/contents`, {
        method: 'DELETE',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [id] }),
      });
    })();
    const [del, ...results] = await Promise.all([deletion, ...downloads]);
    expect(del.status).toBe(200);
    for (const r of results) {
      if (r.status === 200) expect(r.hash).toBe(sha256(data));
      else {
        // 404 when the bytes went while the row was still there; 401 once the row is gone (an
        // id that is no content of the token's room answers like another room's, issue 16).
        const code = (JSON.parse(r.body.toString()) as { error: { code: string } }).error.code;
        expect(['404 NOT_FOUND', '401 AUTHENTICATION_FAILED']).toContain(`${r.status} ${code}`);
      }
    }
    const after = await fetch(`${base}/api/v1/contents/${id}`, { headers: auth });
    expect(after.status).toBe(401);
    await settle();
  });

  it('deleting the room during a one-shot upload and a tus upload', async () => {
    const { room, token } = await freshRoom();
    const auth = { authorization: `Bearer ${token}` };
    const data = randomBytes(512 * KiB);
    const created = await createTus(room, auth, data.length, 't.bin');
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    let deleted: Promise<Response> | undefined;
    const deleteOnce = () => {
      deleted ??= fetch(`${base}/api/v1/rooms/${room}`, { method: 'DELETE', headers: auth });
    };
    const body = multipartChunks('one.bin', data, 16);
    const [oneShot, tus] = await Promise.all([
      slowRequest(`${base}/api/v1/rooms/${room}/contents`, {
        method: 'POST',
        headers: { ...auth, 'content-type': body.contentType },
        chunks: body.chunks,
        delayMs: 5,
        onChunk: (i) => {
          if (i === 4) deleteOnce();
        },
      }),
      slowRequest(new URL(location, base).toString(), {
        method: 'PATCH',
        headers: {
          ...auth,
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
        },
        chunks: split(data, 16),
        delayMs: 5,
      }),
    ]);
    expect((await deleted!).status).toBe(200);
    expect(isNotServerFault(oneShot), JSON.stringify(oneShot)).toBe(true);
    expect(isNotServerFault(tus), JSON.stringify(tus)).toBe(true);
    // Whatever finished or not, the room is gone with every byte of it.
    const gone = await t.database.db
      .selectFrom('rooms')
      .select('id')
      .where('name', '=', room)
      .executeTakeFirst();
    expect(gone).toBeUndefined();
    await settle();
  });

  it('deleting the room before the file part arrives: 409 and not one byte written', async () => {
    // The window crash-orphans.test.ts names: had the upload written after its reservation was
    // gone, a crash would leave bytes that no row names.
    const { room, token, roomId } = await freshRoom();
    const auth = { authorization: `Bearer ${token}` };
    const body = multipartChunks('late.bin', randomBytes(256 * KiB), 32);
    const roomFiles = () =>
      storedFiles(t.config.storage.root).filter((f) => f.startsWith(`rooms/${roomId}/`));
    const seen: string[][] = [];
    const result = await slowRequest(`${base}/api/v1/rooms/${room}/contents`, {
      method: 'POST',
      headers: { ...auth, 'content-type': body.contentType },
      // The first chunk ends inside the part's headers: the request is in, no file part yet.
      chunks: [body.chunks[0]!.subarray(0, 20), body.chunks[0]!.subarray(20), ...body.chunks.slice(1)],
      delayMs: 10,
      onChunk: async (i) => {
        if (i === 0) {
          const res = await fetch(`${base}/api/v1/rooms/${room}`, { method: 'DELETE', headers: auth });
          expect(res.status).toBe(200);
        } else seen.push(roomFiles());
      },
    });
    expect(result.status ?? result.error, JSON.stringify(result)).toBe(409);
    expect(JSON.parse(result.body!)).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(seen.flat()).toEqual([]);
    expect(roomFiles()).toEqual([]);
    await settle();
  });

  it('the room deleted between authentication and the first write: 409 for every kind of post', async () => {
    const file = multipartChunks('late.bin', randomBytes(16 * KiB), 1);
    const multipart = { 'content-type': file.contentType };
    const cases: Array<{
      what: string;
      path: string;
      headers?: Record<string, string>;
      payload?: InjectPayload;
    }> = [
      {
        what: 'one-shot upload with a Content-Length',
        path: 'contents',
        headers: multipart,
        payload: Buffer.concat(file.chunks),
      },
      {
        what: 'one-shot upload streamed without a length',
        path: 'contents',
        headers: multipart,
        payload: Readable.from(file.chunks),
      },
      {
        what: 'two-step reservation',
        path: 'contents/prepare',
        payload: { files: [{ name: 'late.bin', size: 16 * KiB }] },
      },
      {
        what: 'tus creation',
        path: 'uploads',
        headers: {
          'tus-resumable': '1.0.0',
          'upload-length': String(16 * KiB),
          'upload-metadata': `filename ${b64('late.bin')}`,
        },
      },
      // Nothing to reserve: the reservation's INSERT is what meets the deleted room.
      {
        what: 'two-step reservation of an empty file',
        path: 'contents/prepare',
        payload: { files: [{ name: 'empty.txt', size: 0 }] },
      },
      {
        what: 'tus creation of an empty file',
        path: 'uploads',
        headers: {
          'tus-resumable': '1.0.0',
          'upload-length': '0',
          'upload-metadata': `filename ${b64('empty')}`,
        },
      },
      { what: 'message', path: 'messages', payload: { text: 'late' } },
      { what: 'link', path: 'contents/url', payload: { url: 'https://example.com/late', name: 'late' } },
    ];
    const answers: string[] = [];
    for (const c of cases) {
      const { room, token } = await freshRoom();
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${room}/${c.path}`,
        headers: { ...c.headers, authorization: `Bearer ${token}`, [DELETE_ROOM_FIRST]: '1' },
        ...(c.payload === undefined ? {} : { payload: c.payload }),
      });
      answers.push(`${c.what}: ${res.statusCode} ${res.json<{ error?: { code: string } }>().error?.code}`);
    }
    expect(answers).toEqual(cases.map((c) => `${c.what}: 409 CONFLICT`));
    await settle();
  });

  it('password change while tokens are being issued: no token with the old password survives', async () => {
    const { room, token } = await freshRoom({ password: 'old-password' });
    const attempts = Array.from({ length: 16 }, (_, i) =>
      (async () => {
        await new Promise((r) => setTimeout(r, i));
        const res = await fetch(`${base}/api/v1/rooms/${room}/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password: 'old-password' }),
        });
        return { status: res.status, body: (await res.json()) as { token?: string } };
      })(),
    );
    const change = (async () => {
      await new Promise((r) => setTimeout(r, 6));
      return fetch(`${base}/api/v1/rooms/${room}/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'new-password' }),
      });
    })();
    const [changed, ...results] = await Promise.all([change, ...attempts]);
    expect(changed.status).toBe(200);
    for (const r of results) {
      expect([200, 401]).toContain(r.status);
      if (r.status !== 200) continue;
      const check = await fetch(`${base}/api/v1/rooms/${room}/tokens/validate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: r.body.token }),
      });
      expect(check.status, 'a token issued with the old password is still valid').toBe(401);
    }
    // The caller's own session survives, and the new password works.
    const own = await fetch(`${base}/api/v1/rooms/${room}/tokens/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(own.status).toBe(200);
    await enter(t.app, room, { password: 'new-password' });
  });

  it('concurrent rotations of one token: exactly one new session, the token never forks', async () => {
    const { room, token } = await freshRoom();
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${base}/api/v1/rooms/${room}/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token }),
        }).then((r) => r.status),
      ),
    );
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    for (const s of statuses) expect([200, 401]).toContain(s);
  });

  it('concurrent refreshes with one refresh token: exactly one succeeds', async () => {
    const { room } = await freshRoom();
    const session = await enter(t.app, room, { with_refresh_token: true });
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${base}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: session.refresh_token }),
        }).then((r) => r.status),
      ),
    );
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    for (const s of statuses) expect([200, 401]).toContain(s);
  });

  it('entry-limit change while tokens are being issued: never more entries than the limit', async () => {
    // Several rounds: the limit check and the entries race differently each time.
    for (let round = 0; round < 5; round++) {
      const { room, token, roomId } = await freshRoom({ max_times_entered: 100 });
      const attempts = Array.from({ length: 24 }, () =>
        fetch(`${base}/api/v1/rooms/${room}/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }).then((r) => r.status),
      );
      const change = fetch(`${base}/api/v1/rooms/${room}/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ max_times_entered: 8 }),
      }).then(async (r) => ({ status: r.status, body: await r.text() }));
      const [changed, ...statuses] = await Promise.all([change, ...attempts]);
      expect([200, 400], changed.body).toContain(changed.status);
      for (const s of statuses) expect([200, 401]).toContain(s);
      const row = await t.database.db
        .selectFrom('rooms')
        .select(['current_times_entered', 'max_times_entered'])
        .where('id', '=', roomId)
        .executeTakeFirstOrThrow();
      expect(row.current_times_entered).toBeLessThanOrEqual(row.max_times_entered);
      expect(row.current_times_entered).toBe(1 + statuses.filter((s) => s === 200).length);
      if (changed.status === 200) expect(row.max_times_entered).toBe(8);
    }
  });

  it('lifecycle pass while uploading into a room that expires mid-upload', async () => {
    const { room, token, roomId } = await freshRoom();
    const auth = { authorization: `Bearer ${token}` };
    const data = randomBytes(256 * KiB);
    const created = await createTus(room, auth, data.length, 'g.bin');
    expect(created.status).toBe(201);
    await t.database.db
      .updateTable('rooms')
      .set({ expire_at: clock.now() + 30_000 })
      .where('id', '=', roomId)
      .execute();
    const body = multipartChunks('gc.bin', data, 12);
    let pass: Promise<unknown> | undefined;
    const [oneShot, tus] = await Promise.all([
      slowRequest(`${base}/api/v1/rooms/${room}/contents`, {
        method: 'POST',
        headers: { ...auth, 'content-type': body.contentType },
        chunks: body.chunks,
        delayMs: 5,
        onChunk: (i) => {
          if (i === 3) {
            clock.advance(60_000);
            pass = t.app.lifecycle.runPass();
          }
        },
      }),
      slowRequest(new URL(created.headers.get('location')!, base).toString(), {
        method: 'PATCH',
        headers: {
          ...auth,
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
        },
        chunks: split(data, 12),
        delayMs: 5,
      }),
    ]);
    const result = (await pass) as { expired_rooms: number };
    expect(result.expired_rooms).toBeGreaterThanOrEqual(1);
    expect(isNotServerFault(oneShot), JSON.stringify(oneShot)).toBe(true);
    expect(isNotServerFault(tus), JSON.stringify(tus)).toBe(true);
    await settle();
    const left = await t.database.db
      .selectFrom('rooms')
      .select('id')
      .where('id', '=', roomId)
      .executeTakeFirst();
    expect(left).toBeUndefined();
  });

  it('lifecycle pass while a reservation expires under a running upload', async () => {
    const { room, token } = await freshRoom();
    const auth = { authorization: `Bearer ${token}` };
    const data = randomBytes(256 * KiB);
    const body = multipartChunks('slow.bin', data, 12);
    let pass: Promise<unknown> | undefined;
    const result = await slowRequest(`${base}/api/v1/rooms/${room}/contents`, {
      method: 'POST',
      headers: { ...auth, 'content-type': body.contentType },
      chunks: body.chunks,
      delayMs: 5,
      onChunk: (i) => {
        if (i === 4) {
          clock.advance((t.config.upload.reservation_ttl_seconds + 5) * 1000);
          pass = t.app.lifecycle.runPass();
        }
      },
    });
    await pass;
    expect(isNotServerFault(result), JSON.stringify(result)).toBe(true);
    await settle();
  });
});
