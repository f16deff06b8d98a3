import { request as httpRequest } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { type ContentsTestApp, createContentsApp, listen, uploadOneShot } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';
import { WsClient } from '../realtime/ws-client.js';

const VIEW = 1;
const EDIT = 2;
const SHARE = 4;
const DELETE = 8;

interface LinkView {
  id: number;
  secret: string;
  path: string;
  uses: number;
  downloads: number;
  permission: number;
}
interface Opened {
  token: string;
  refresh_token?: string;
  claims: { jti: string; permission: number };
  link: { permission: number; downloads_left: number | null };
}

describeEachDatabase('share links', (engine) => {
  let t: ContentsTestApp;
  let base: string;
  let counter = 0;
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    t = await createContentsApp({ engine });
    base = await listen(t.app);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await t?.close();
  });

  /** A fresh room and its manager's token (DELETE from the room's default bits). */
  async function managedRoom(body: Record<string, unknown> = {}) {
    const room = `links-${++counter}`;
    await createRoom(t.app, room, body);
    const manager = await enter(t.app, room);
    return { room, manager: manager.token };
  }

  const setRoomPermission = (room: string, permission: number) =>
    t.database.db.updateTable('rooms').set({ permission }).where('name', '=', room).execute();

  const createLink = (room: string, token: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/share-links`,
      headers: bearer(token),
      payload: body,
    });

  async function link(room: string, token: string, body: Record<string, unknown>): Promise<LinkView> {
    const res = await createLink(room, token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<LinkView>();
  }

  const openLink = (secret: string, extra: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url: '/api/v1/share-links/open', payload: { secret, ...extra } });

  async function open(secret: string, extra: Record<string, unknown> = {}): Promise<Opened> {
    const res = await openLink(secret, extra);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Opened>();
  }

  const post = (room: string, token: string, text: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/messages`,
      headers: bearer(token),
      payload: { text },
    });

  function expectReason(res: { json: () => unknown }, reason: string) {
    const body = res.json() as { error: { details?: Array<{ path: string; message: string }> } };
    expect(body.error.details).toContainEqual({ path: 'reason', message: reason });
  }

  describe('permission matrix: a link session never exceeds the room or the link', () => {
    for (const roomBits of [VIEW | EDIT | SHARE | DELETE, VIEW | EDIT, VIEW | DELETE, VIEW]) {
      it(`room ${roomBits}: every link permission 1..15`, async () => {
        const { room, manager } = await managedRoom();
        const ws = `${base.replace(/^http/, 'ws')}/api/v1/ws`;
        const stored = await uploadOneShot(t.app, room, manager, [
          { name: 'matrix.bin', content: Buffer.from('matrix') },
        ]);
        const fileId = stored.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
        for (let linkBits = 1; linkBits <= 15; linkBits++) {
          await setRoomPermission(room, roomBits);
          const res = await createLink(room, manager, { permission: linkBits });
          if ((linkBits & ~roomBits) !== 0) {
            expectError(res, 400, 'VALIDATION_ERROR');
            continue;
          }
          expect(res.statusCode, res.body).toBe(201);
          const opened = await open(res.json<LinkView>().secret, { with_refresh_token: true });
          expect(opened.claims.permission).toBe(linkBits);
          const token = opened.token;
          // A content to read and delete, made by the manager (EDIT back on for it).
          await setRoomPermission(room, roomBits | EDIT);
          const made = (await post(room, manager, `m${linkBits}`)).json<{ message: { id: number } }>();
          await setRoomPermission(room, roomBits);

          const list = await t.app.inject({
            method: 'GET',
            url: `/api/v1/rooms/${room}/contents`,
            headers: bearer(token),
          });
          if (linkBits & VIEW) expect(list.statusCode, list.body).toBe(200);
          else expectError(list, 403, 'PERMISSION_DENIED');
          // Read, download and archive need VIEW too; so does the WebSocket.
          for (const url of [
            `/api/v1/rooms/${room}/messages`,
            `/api/v1/contents/${fileId}`,
            `/api/v1/rooms/${room}/archive`,
          ]) {
            const res = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
            if (linkBits & VIEW) expect(res.statusCode, `${url} ${res.body}`).toBe(200);
            else expectError(res, 403, 'PERMISSION_DENIED');
          }
          const socket = await WsClient.open(ws);
          sockets.push(socket);
          socket.send({ message_type: 'connect', payload: { token, room_name: room } });
          if (linkBits & VIEW) expect((await socket.next()).message_type).toBe('connect_ack');
          else expect((await socket.expectClose()).code).toBe(4403);
          await socket.close();

          const posted = await post(room, token, 'from the link');
          if (linkBits & roomBits & EDIT) expect(posted.statusCode, posted.body).toBe(201);
          else expectError(posted, 403, 'PERMISSION_DENIED');
          // Uploads (one-shot and tus) need EDIT, not VIEW.
          const uploaded = await uploadOneShot(t.app, room, token, [
            { name: `u${linkBits}.txt`, content: Buffer.from('u') },
          ]);
          const tus = await t.app.inject({
            method: 'POST',
            url: `/api/v1/rooms/${room}/uploads`,
            headers: { ...bearer(token), 'tus-resumable': '1.0.0', 'upload-length': '1' },
          });
          if (linkBits & roomBits & EDIT) {
            expect(uploaded.statusCode, uploaded.body).toBe(201);
            expect(tus.statusCode, tus.body).toBe(201);
          } else {
            expectError(uploaded, 403, 'PERMISSION_DENIED');
            expectError(tus, 403, 'PERMISSION_DENIED');
          }
          // Editing needs VIEW and EDIT (room EDIT back on for the manager's message above).
          const edited = await t.app.inject({
            method: 'PUT',
            url: `/api/v1/rooms/${room}/contents/${made.message.id}`,
            headers: bearer(token),
            payload: { text: 'edited by the link' },
          });
          if (linkBits & roomBits & EDIT && linkBits & VIEW) expect(edited.statusCode, edited.body).toBe(200);
          else expectError(edited, 403, 'PERMISSION_DENIED');

          const deleted = await t.app.inject({
            method: 'DELETE',
            url: `/api/v1/rooms/${room}/contents`,
            headers: bearer(token),
            payload: { ids: [made.message.id] },
          });
          if (linkBits & roomBits & DELETE && linkBits & VIEW)
            expect(deleted.statusCode, deleted.body).toBe(200);
          else expectError(deleted, 403, 'PERMISSION_DENIED');

          // Managing is never a link session's, whatever its bits.
          for (const url of [`/api/v1/rooms/${room}/tokens`, `/api/v1/rooms/${room}/share-links`]) {
            const res = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
            expectError(res, 403, 'PERMISSION_DENIED');
          }
          const grow = await createLink(room, token, { permission: VIEW });
          expectError(grow, 403, 'PERMISSION_DENIED');

          // Renewals keep the link's bits, and lose what the room lost meanwhile.
          const rotated = await t.app.inject({
            method: 'POST',
            url: `/api/v1/rooms/${room}/tokens`,
            payload: { token },
          });
          expect(rotated.statusCode, rotated.body).toBe(200);
          expect(rotated.json<Opened>().claims.permission).toBe(linkBits);
          await setRoomPermission(room, roomBits & ~EDIT);
          const refreshed = await t.app.inject({
            method: 'POST',
            url: '/api/v1/auth/refresh',
            payload: { refresh_token: opened.refresh_token },
          });
          expect(refreshed.statusCode, refreshed.body).toBe(200);
          const access = refreshed.json<{ access_token: string }>().access_token;
          const claims = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString()) as {
            permission: number;
          };
          expect(claims.permission).toBe(linkBits & roomBits & ~EDIT);
        }
      });
    }

    it('a link cannot outlive its room, and a scoped link only views', async () => {
      const { room, manager } = await managedRoom({ age_seconds: 7200 });
      expectError(
        await createLink(room, manager, { permission: VIEW, expires_in_seconds: 86400 }),
        400,
        'VALIDATION_ERROR',
      );
      const msg = (await post(room, manager, 'x')).json<{ message: { id: number } }>().message.id;
      expectError(
        await createLink(room, manager, { permission: VIEW | EDIT, content_ids: [msg] }),
        400,
        'VALIDATION_ERROR',
      );
      expectError(
        await createLink(room, manager, { permission: VIEW, content_ids: [msg], max_downloads: 1 }),
        400,
        'VALIDATION_ERROR',
      );
      expectError(
        await createLink(room, manager, { permission: VIEW, max_downloads: 1 }),
        400,
        'VALIDATION_ERROR',
      );
    });
  });

  it('max uses is exact under 30 concurrent openings', async () => {
    const { room, manager } = await managedRoom();
    const { secret, id } = await link(room, manager, { permission: VIEW | EDIT, max_uses: 7 });
    const answers = await Promise.all(Array.from({ length: 30 }, () => openLink(secret)));
    const ok = answers.filter((r) => r.statusCode === 200);
    expect(ok).toHaveLength(7);
    for (const res of answers.filter((r) => r.statusCode !== 200)) {
      expectError(res, 410, 'SHARE_LINK_GONE');
      expectReason(res, 'uses_exhausted');
    }
    const row = await t.database.db
      .selectFrom('share_links')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(row.uses)).toBe(7);
    const sessions = await t.database.db
      .selectFrom('sessions')
      .select('jti')
      .where('share_link_id', '=', id)
      .execute();
    expect(sessions).toHaveLength(7);
    // Link openings do not count as entries of the room.
    const entered = await t.database.db
      .selectFrom('rooms')
      .select('current_times_entered')
      .where('name', '=', room)
      .executeTakeFirstOrThrow();
    expect(Number(entered.current_times_entered)).toBe(1);
  });

  /** A GET over TCP; `abortAfter` bytes destroys the socket once that much body arrived. */
  function download(url: string, headers: Record<string, string> = {}, abortAfter?: number) {
    return new Promise<{ status: number; body: Buffer; aborted: boolean }>((resolve, reject) => {
      const req = httpRequest(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (abortAfter !== undefined && received >= abortAfter) {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), aborted: true });
          }
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), aborted: false }),
        );
        res.on('error', () => undefined);
      });
      req.on('error', (error) => (abortAfter === undefined ? reject(error) : undefined));
      req.end();
    });
  }

  async function fileLink(size: number, body: Record<string, unknown>) {
    const { room, manager } = await managedRoom({ max_size: 64 * 1024 * 1024 });
    const content = Buffer.alloc(size, 7);
    const up = await uploadOneShot(t.app, room, manager, [{ name: 'secret.bin', content }]);
    expect(up.statusCode, up.body).toBe(201);
    const fileId = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    const created = await link(room, manager, { permission: VIEW, content_ids: [fileId], ...body });
    return { room, manager, fileId, content, created };
  }

  const linkRow = (id: number) =>
    t.database.db.selectFrom('share_links').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('max downloads is exact under concurrent downloads', async () => {
    const { fileId, content, created } = await fileLink(256 * 1024, { max_downloads: 3 });
    const visitors = await Promise.all(Array.from({ length: 12 }, () => open(created.secret)));
    const results = await Promise.all(
      visitors.map((v) => download(`${base}/api/v1/contents/${fileId}?token=${v.token}`)),
    );
    const full = results.filter((r) => r.status === 200);
    for (const r of full) expect(r.body.equals(content)).toBe(true);
    expect(full.length).toBeLessThanOrEqual(3);
    for (const r of results.filter((r) => r.status !== 200)) expect([409, 410]).toContain(r.status);
    // Whoever met a held slot (409) tries again once the slots held then are settled (a lease is
    // settled just after its response ends, so a retry right away may meet it still held):
    // exactly three complete downloads in all.
    const settled = () =>
      expect.poll(async () => Number((await linkRow(created.id)).downloads_pending)).toBe(0);
    for (const [i, r] of results.entries()) {
      if (r.status !== 409) continue;
      await settled();
      const again = await download(`${base}/api/v1/contents/${fileId}?token=${visitors[i]!.token}`);
      if (again.status === 200) full.push(again);
      else expect(again.status).toBe(410);
    }
    expect(full).toHaveLength(3);
    await expect.poll(async () => Number((await linkRow(created.id)).downloads)).toBe(3);
    const row = await linkRow(created.id);
    expect(Number(row.downloads_pending)).toBe(0);
    const late = await t.app.inject({
      method: 'GET',
      url: `/api/v1/contents/${fileId}?token=${visitors[0]!.token}`,
    });
    expectError(late, 410, 'SHARE_LINK_GONE');
    expectReason(late, 'downloads_exhausted');
    const reopen = await openLink(created.secret);
    expectError(reopen, 410, 'SHARE_LINK_GONE');
    expectReason(reopen, 'downloads_exhausted');
  });

  it('an interrupted download does not count; a resumed one counts once', async () => {
    const size = 8 * 1024 * 1024;
    const { fileId, content, created } = await fileLink(size, { max_downloads: 1 });
    const visitor = await open(created.secret);
    const url = `${base}/api/v1/contents/${fileId}?token=${visitor.token}`;
    const cut = await download(url, {}, 64 * 1024);
    expect(cut.aborted).toBe(true);
    await expect
      .poll(async () => Number((await linkRow(created.id)).downloads_pending), { timeout: 10_000 })
      .toBe(0);
    expect(Number((await linkRow(created.id)).downloads)).toBe(0);

    const head = await download(url, { range: 'bytes=0-1023' });
    expect(head.status).toBe(206);
    await expect.poll(async () => Number((await linkRow(created.id)).downloads_pending)).toBe(0);
    expect(Number((await linkRow(created.id)).downloads)).toBe(0);
    const tail = await download(url, { range: 'bytes=1024-' });
    expect(tail.status).toBe(206);
    expect(Buffer.concat([head.body, tail.body]).equals(content)).toBe(true);
    await expect.poll(async () => Number((await linkRow(created.id)).downloads)).toBe(1);
    expect((await download(url)).status).toBe(410);
  });

  it('burn after reading deletes the file after the last download', async () => {
    const { room, manager, fileId, created } = await fileLink(1000, {
      max_downloads: 1,
      burn_after_reading: true,
    });
    const visitor = await open(created.secret);
    expect(visitor.link.downloads_left).toBe(1);
    const got = await download(`${base}/api/v1/contents/${fileId}?token=${visitor.token}`);
    expect(got.status).toBe(200);
    await expect
      .poll(
        async () =>
          (await t.database.db.selectFrom('contents').select('id').where('id', '=', fileId).execute()).length,
      )
      .toBe(0);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${room}/contents`,
      headers: bearer(manager),
    });
    expect(list.json<unknown[]>()).toHaveLength(0);
    expectError(await openLink(created.secret), 410, 'SHARE_LINK_GONE');
  });

  it('revoking closes the link sockets and refuses its tokens and refresh tokens', async () => {
    const { room, manager } = await managedRoom();
    const ws = `${base.replace(/^http/, 'ws')}/api/v1/ws`;
    const managerSocket = await WsClient.connect(ws, manager, room);
    sockets.push(managerSocket);
    const created = await link(room, manager, { permission: VIEW | EDIT });
    const frame = await managerSocket.next('share_links_changed');
    expect(frame.payload).toEqual({ reason: 'created', link_id: created.id });

    const visitor = await open(created.secret, { with_refresh_token: true });
    const visitorSocket = await WsClient.connect(ws, visitor.token, room);
    sockets.push(visitorSocket);
    // Only managers hear of share links.
    await managerSocket.next('share_links_changed');
    expect(visitorSocket.unread('share_links_changed')).toHaveLength(0);
    // A rotation before the revocation: its new session is the link's too.
    const rotated = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/tokens`,
      payload: { token: visitor.token, with_refresh_token: true },
    });
    const second = rotated.json<Opened>();

    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/rooms/${room}/share-links/${created.id}`,
      headers: bearer(manager),
    });
    expect(revoke.statusCode, revoke.body).toBe(200);
    expect(revoke.json()).toEqual({ revoked: true });
    const closed = await visitorSocket.expectClose();
    expect(closed.code).toBe(4100);
    expect((await managerSocket.next('share_links_changed')).payload.reason).toBe('revoked');
    expect(managerSocket.socket.readyState).toBe(1);

    for (const token of [visitor.token, second.token]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/rooms/${room}/contents`,
        headers: bearer(token),
      });
      expectError(res, 401, 'AUTHENTICATION_FAILED');
    }
    for (const refresh of [visitor.refresh_token, second.refresh_token]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: refresh },
      });
      expectError(res, 401, 'AUTHENTICATION_FAILED');
    }
    const reopened = await openLink(created.secret);
    expectError(reopened, 410, 'SHARE_LINK_GONE');
    expectReason(reopened, 'revoked');
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${room}/share-links?include_inactive=true`,
      headers: bearer(manager),
    });
    expect(listed.json<Array<{ id: number; revoked_at: string | null }>>()[0]!.revoked_at).not.toBeNull();
  });

  it('drop box: visitors post and upload but cannot list, download or hear of any content', async () => {
    const { room, manager } = await managedRoom();
    const ws = `${base.replace(/^http/, 'ws')}/api/v1/ws`;
    await post(room, manager, 'the manager was here');
    const managerSocket = await WsClient.connect(ws, manager, room);
    sockets.push(managerSocket);
    const created = await link(room, manager, { permission: EDIT });
    expect(created.path).toBe(`/${room}?s=${created.secret}`);

    let visitor = await open(created.secret);
    expect(visitor.claims.permission).toBe(EDIT);
    const up = await uploadOneShot(t.app, room, visitor.token, [
      { name: 'dropped.txt', content: Buffer.from('hi') },
    ]);
    expect(up.statusCode, up.body).toBe(201);
    const own = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    expect((await post(room, visitor.token, 'a note')).statusCode).toBe(201);
    const tus = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/uploads`,
      headers: { ...bearer(visitor.token), 'tus-resumable': '1.0.0', 'upload-length': '3' },
    });
    expect(tus.statusCode, tus.body).toBe(201);
    // The manager sees the upload live.
    const live = await managerSocket.next('content_created');
    expect(live.payload.content.id).toBe(own);

    // After a reload the visitor opens the link again: still nothing to see, its own upload included.
    visitor = await open(created.secret);
    for (const url of [
      `/api/v1/rooms/${room}/contents`,
      `/api/v1/rooms/${room}/messages`,
      `/api/v1/rooms/${room}/archive`,
      `/api/v1/contents/${own}`,
    ]) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(visitor.token) });
      expectError(res, 403, 'PERMISSION_DENIED');
    }
    const socket = await WsClient.open(ws);
    sockets.push(socket);
    socket.send({ message_type: 'connect', payload: { token: visitor.token, room_name: room } });
    expect((await socket.expectClose()).code).toBe(4403);
    expect(socket.frames.filter((f) => f.message_type.startsWith('content_'))).toHaveLength(0);
  });

  it('with VIEW besides EDIT, the visitor sees its own uploads and their events after a reload', async () => {
    const { room, manager } = await managedRoom();
    const ws = `${base.replace(/^http/, 'ws')}/api/v1/ws`;
    const created = await link(room, manager, { permission: VIEW | EDIT });
    const first = await open(created.secret);
    const up = await uploadOneShot(t.app, room, first.token, [
      { name: 'mine.txt', content: Buffer.from('mine') },
    ]);
    const own = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    // "After the page reloads": a new opening of the link.
    const again = await open(created.secret);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${room}/contents`,
      headers: bearer(again.token),
    });
    expect(list.json<Array<{ id: number }>>().map((c) => c.id)).toContain(own);
    const got = await download(`${base}/api/v1/contents/${own}?token=${again.token}`);
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('mine');
    const socket = await WsClient.connect(ws, again.token, room);
    sockets.push(socket);
    const posted = (await post(room, again.token, 'mine too')).json<{ message: { id: number } }>();
    expect((await socket.next('content_created')).payload.content.id).toBe(posted.message.id);
  });

  it('a scoped view link lists and downloads its files only', async () => {
    const { room, manager, fileId, created } = await fileLink(10, {});
    const other = await uploadOneShot(t.app, room, manager, [
      { name: 'other.bin', content: Buffer.from('x') },
    ]);
    const otherId = other.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    const visitor = await open(created.secret);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${room}/contents`,
      headers: bearer(visitor.token),
    });
    expect(list.json<Array<{ id: number }>>().map((c) => c.id)).toEqual([fileId]);
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/v1/contents/${fileId}?token=${visitor.token}` }))
        .statusCode,
    ).toBe(200);
    expectError(
      await t.app.inject({ method: 'GET', url: `/api/v1/contents/${otherId}?token=${visitor.token}` }),
      404,
      'NOT_FOUND',
    );
  });

  it('a password-protected link needs its password', async () => {
    const { room, manager } = await managedRoom();
    const created = await link(room, manager, { permission: VIEW, password: 'open-sesame' });
    const none = await openLink(created.secret);
    expectError(none, 401, 'AUTHENTICATION_FAILED');
    expectReason(none, 'password_required');
    expectError(await openLink(created.secret, { password: 'wrong' }), 401, 'AUTHENTICATION_FAILED');
    expect((await openLink(created.secret, { password: 'open-sesame' })).statusCode).toBe(200);
    expectError(await openLink('no-such-secret'), 404, 'NOT_FOUND');
  });
});

describeEachDatabase('share link expiry', (engine) => {
  let t: ContentsTestApp;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    t = await createContentsApp({ engine, clock });
  });
  afterAll(() => t?.close());

  it('an expired link answers 410 and its sessions end', async () => {
    await createRoom(t.app, 'expiring');
    const manager = await enter(t.app, 'expiring');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/expiring/share-links',
      headers: bearer(manager.token),
      payload: { permission: VIEW, expires_in_seconds: 600 },
    });
    expect(res.statusCode, res.body).toBe(201);
    const { secret } = res.json<LinkView>();
    const opened = await t.app.inject({
      method: 'POST',
      url: '/api/v1/share-links/open',
      payload: { secret },
    });
    expect(opened.statusCode).toBe(200);
    const token = opened.json<Opened>().token;
    expect(Date.parse(opened.json<{ expires_at: string }>().expires_at)).toBeLessThanOrEqual(
      clock.now() + 600_000,
    );
    clock.advance(601_000);
    const gone = await t.app.inject({ method: 'POST', url: '/api/v1/share-links/open', payload: { secret } });
    expectError(gone, 410, 'SHARE_LINK_GONE');
    expect(gone.json<{ error: { details: unknown[] } }>().error.details).toContainEqual({
      path: 'reason',
      message: 'expired',
    });
    const use = await t.app.inject({
      method: 'GET',
      url: '/api/v1/rooms/expiring/contents',
      headers: bearer(token),
    });
    expectError(use, 401, 'AUTHENTICATION_FAILED');
  });
});

describeEachDatabase('share link download leases', (engine) => {
  let t: ContentsTestApp;
  let base: string;
  beforeAll(async () => {
    t = await createContentsApp({ engine, env: { ROOM_SHARE_LINK_DOWNLOAD_LEASE_SECONDS: '1' } });
    base = await listen(t.app);
  });
  afterAll(() => t?.close());

  const linkRow = (id: number) =>
    t.database.db.selectFrom('share_links').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const leases = (id: number) =>
    t.database.db.selectFrom('share_link_download_leases').selectAll().where('link_id', '=', id).execute();

  async function oneDownloadLink(room: string) {
    await createRoom(t.app, room, { max_size: 64 * 1024 * 1024 });
    const manager = (await enter(t.app, room)).token;
    const content = Buffer.alloc(16 * 1024 * 1024, 3);
    const up = await uploadOneShot(t.app, room, manager, [{ name: 'f.bin', content }]);
    const fileId = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/share-links`,
      headers: bearer(manager),
      payload: { permission: VIEW, content_ids: [fileId], max_downloads: 1 },
    });
    const created = res.json<LinkView>();
    const opened = await t.app.inject({
      method: 'POST',
      url: '/api/v1/share-links/open',
      payload: { secret: created.secret },
    });
    const url = `${base}/api/v1/contents/${fileId}?token=${opened.json<Opened>().token}`;
    return { created, content, url };
  }

  it('a transfer longer than the lease keeps its slot (renewed) and counts once', async () => {
    const { created, content, url } = await oneDownloadLink('lease-renewed');
    const chunks: Buffer[] = [];
    let resume!: () => void;
    const done = new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, (res) => {
        res.once('data', () => {
          res.pause();
          resume = () => res.resume();
        });
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    await expect.poll(() => resume !== undefined).toBe(true);
    // Three lease periods later the stalled transfer still holds the slot.
    await new Promise((r) => setTimeout(r, 3000));
    const other = await t.app.inject({ method: 'GET', url: url.slice(base.length) });
    expectError(other, 409, 'CONFLICT');
    expect(await leases(created.id)).toHaveLength(1);
    resume();
    expect(await done).toBe(200);
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    await expect.poll(async () => Number((await linkRow(created.id)).downloads)).toBe(1);
    expect(Number((await linkRow(created.id)).downloads_pending)).toBe(0);
    expect(await leases(created.id)).toHaveLength(0);
  });

  it('a lapsed lease (its server died) is given back by the lifecycle pass', async () => {
    const { created } = await oneDownloadLink('lease-lapsed');
    // What a server killed mid-transfer leaves behind: a held slot nobody renews.
    const past = Date.now() - 5000;
    await t.database.db
      .insertInto('share_link_download_leases')
      .values({ link_id: created.id, lease_until: past, created_at: past - 1000 })
      .execute();
    await t.database.db
      .updateTable('share_links')
      .set({ downloads_pending: 1 })
      .where('id', '=', created.id)
      .execute();
    const pass = await t.app.lifecycle.runPass();
    expect(pass.released_download_leases).toBe(1);
    expect(Number((await linkRow(created.id)).downloads_pending)).toBe(0);
    expect(await leases(created.id)).toHaveLength(0);
    expect((await t.app.lifecycle.runPass()).released_download_leases).toBe(0);
  });
});
