import { ContentView, MessagePage } from '@elizabeth/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { type ContentsTestApp, createContentsApp, expectQuotaInvariant } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';

describeEachDatabase('messages and links', (engine) => {
  let t: ContentsTestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
  let token: string;
  let roomId: number;
  const url = (path: string) => `/api/v1/rooms/chat-room${path}`;

  beforeAll(async () => {
    t = await createContentsApp({ engine, clock, configure: (c) => (c.room.max_message_bytes = 1024) });
    const room = await createRoom(t.app, 'chat-room', { max_size: 4000 });
    roomId = room.id;
    token = (await enter(t.app, 'chat-room')).token;
  });
  afterAll(() => t.close());

  const post = (payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: url('/messages'), headers: bearer(token), payload });
  const page = (query = '') =>
    t.app.inject({ method: 'GET', url: url(`/messages${query}`), headers: bearer(token) });

  it('creates trimmed messages, counts their UTF-8 bytes and broadcasts them', async () => {
    const res = await post({ text: '  héllo 世界  ' });
    expect(res.statusCode, res.body).toBe(201);
    const message = ContentView.parse(res.json().message);
    expect(message).toMatchObject({
      content_type: 'text',
      text: 'héllo 世界',
      size: Buffer.byteLength('héllo 世界'),
      mime_type: 'text/plain',
      sequence_number: 0,
    });
    expect(t.events.some((e) => e.type === 'content_created' && e.content.id === message.id)).toBe(true);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(message.size);
  });

  it('refuses empty, oversized and over-quota messages without counting them', async () => {
    expectError(await post({ text: '   ' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ text: 'x'.repeat(1025) }), 413, 'PAYLOAD_TOO_LARGE');
    expect((await post({ text: 'é'.repeat(512) })).statusCode).toBe(201);
    expectError(await post({ text: 'é'.repeat(513) }), 413, 'PAYLOAD_TOO_LARGE');
    await expectQuotaInvariant(t.database, roomId);
  });

  it('pages newest first, ascending inside a page, with a stable cursor', async () => {
    for (let i = 0; i < 7; i++) expect((await post({ text: `m${i}` })).statusCode).toBe(201);
    const first = MessagePage.parse((await page('?limit=3')).json());
    expect(first.items.map((m) => m.text)).toEqual(['m4', 'm5', 'm6']);
    expect(first.has_more).toBe(true);
    const second = MessagePage.parse((await page(`?limit=3&cursor=${first.next_cursor}`)).json());
    expect(second.items.map((m) => m.text)).toEqual(['m1', 'm2', 'm3']);
    const third = MessagePage.parse((await page(`?limit=3&cursor=${second.next_cursor}`)).json());
    expect(third.items.map((m) => m.text)).toEqual(['héllo 世界', 'é'.repeat(512), 'm0']);
    expect(third).toMatchObject({ has_more: false, next_cursor: null });
    expect(first.next_sequence_number).toBe(9);
    expectError(await page('?limit=0'), 400, 'VALIDATION_ERROR');
    expectError(await page('?limit=101'), 400, 'VALIDATION_ERROR');
    expectError(await page('?cursor=abc'), 400, 'VALIDATION_ERROR');
    expectError(await page('?cursor=1:0'), 400, 'VALIDATION_ERROR');
  });

  it('orders by the client sequence number', async () => {
    await post({ text: 'late', sequence_number: 1000 });
    await post({ text: 'early', sequence_number: -5 });
    const all = MessagePage.parse((await page('?limit=100')).json());
    expect(all.items[0]!.text).toBe('early');
    expect(all.items.at(-1)!.text).toBe('late');
    expect(all.next_sequence_number).toBe(1001);
  });

  it('edits messages adjusting the quota, and refuses a kind change', async () => {
    const created = (await post({ text: 'abc' })).json().message;
    const edit = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PUT', url: url(`/contents/${created.id}`), headers: bearer(token), payload });
    const res = await edit({ text: ' abcdefgh ' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().updated).toMatchObject({ text: 'abcdefgh', size: 8 });
    await expectQuotaInvariant(t.database, roomId);
    expectError(await edit({ url: 'https://example.com' }), 400, 'VALIDATION_ERROR');
    expectError(await edit({ file_name: 'x' }), 400, 'VALIDATION_ERROR');
    expectError(await edit({ text: '' }), 400, 'VALIDATION_ERROR');
  });

  it('adds links (http/https only), lists by type, renames, deletes with accounting', async () => {
    const add = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: url('/contents/url'), headers: bearer(token), payload });
    for (const bad of [
      'javascript:alert(1)',
      'ftp://x.org/a',
      '/relative',
      'not a url',
      'data:text/html,x',
    ]) {
      expectError(await add({ url: bad, name: 'x' }), 400, 'VALIDATION_ERROR');
    }
    expectError(await add({ url: 'https://ok.example', name: '  ' }), 400, 'VALIDATION_ERROR');
    const res = await add({ url: ' https://example.com/a?b=1 ', name: ' Example ', description: ' docs ' });
    expect(res.statusCode, res.body).toBe(201);
    const link = ContentView.parse(res.json().created);
    expect(link).toMatchObject({
      content_type: 'url',
      url: 'https://example.com/a?b=1',
      file_name: 'Example',
      text: 'docs',
      size: 25,
    });
    await expectQuotaInvariant(t.database, roomId);

    const upd = await t.app.inject({
      method: 'PUT',
      url: url(`/contents/${link.id}`),
      headers: bearer(token),
      payload: { url: 'http://e.org', name: 'E' },
    });
    expect(upd.json().updated).toMatchObject({ url: 'http://e.org', file_name: 'E', size: 12 });
    expectError(
      await t.app.inject({
        method: 'PUT',
        url: url(`/contents/${link.id}`),
        headers: bearer(token),
        payload: { text: 'x' },
      }),
      400,
      'VALIDATION_ERROR',
    );
    expectError(
      await t.app.inject({
        method: 'PUT',
        url: url(`/contents/${link.id}`),
        headers: bearer(token),
        payload: { url: 'mailto:a@b' },
      }),
      400,
      'VALIDATION_ERROR',
    );
    await expectQuotaInvariant(t.database, roomId);

    const urls = (
      await t.app.inject({ method: 'GET', url: url('/contents?type=url'), headers: bearer(token) })
    ).json();
    expect(urls.map((c: ContentView) => c.id)).toEqual([link.id]);
    const all = (await t.app.inject({ method: 'GET', url: url('/contents'), headers: bearer(token) })).json<
      ContentView[]
    >();
    expect(all.map((c) => c.id)).toEqual([...all.map((c) => c.id)].sort((a, b) => a - b));
    expectError(
      await t.app.inject({ method: 'GET', url: url('/contents?type=video'), headers: bearer(token) }),
      400,
      'VALIDATION_ERROR',
    );

    const before = await expectQuotaInvariant(t.database, roomId);
    const del = await t.app.inject({
      method: 'DELETE',
      url: url('/contents'),
      headers: bearer(token),
      payload: { ids: [link.id, all[0]!.id, 999999] },
    });
    expect(del.statusCode, del.body).toBe(200);
    const body = del.json();
    expect(body.deleted.sort()).toEqual([link.id, all[0]!.id].sort());
    expect(body.freed_size).toBe(12 + all[0]!.size);
    expect(body.current_size).toBe(before - body.freed_size);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(body.current_size);
    expectError(
      await t.app.inject({
        method: 'DELETE',
        url: url('/contents'),
        headers: bearer(token),
        payload: { ids: [999999] },
      }),
      404,
      'NOT_FOUND',
    );
    expect(t.events.filter((e) => e.type === 'content_deleted')).toHaveLength(2);
  });

  it('never lets the room overflow: the quota counts messages and links', async () => {
    let status = 201;
    while (status === 201) status = (await post({ text: 'y'.repeat(900) })).statusCode;
    expect(status).toBe(413);
    const size = await expectQuotaInvariant(t.database, roomId);
    expect(size).toBeLessThanOrEqual(4000);
    expect(size).toBeGreaterThan(4000 - 900);
  });

  it('needs a token before anything and the permission bits', async () => {
    expectError(
      await t.app.inject({ method: 'POST', url: url('/messages'), payload: { text: 'x' } }),
      401,
      'AUTHENTICATION_FAILED',
    );
    expectError(await t.app.inject({ method: 'GET', url: url('/messages') }), 401, 'AUTHENTICATION_FAILED');
  });

  // Posts run prepared statements (db/prepared-query.ts), on SQLite without waiting in between:
  // what each post reads and writes must still be per post, whatever runs at the same time.
  const postTo = (room: string, bearerToken: string, text: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/messages`,
      headers: bearer(bearerToken),
      payload: { text },
    });

  it('numbers concurrent posts consecutively and keeps the quota under concurrent posts', async () => {
    const busy = await createRoom(t.app, 'busy-room', { max_size: 2000 });
    const busyToken = (await enter(t.app, 'busy-room')).token;
    const posted = await Promise.all(
      Array.from({ length: 30 }, (_, i) => postTo('busy-room', busyToken, `m${i}`.padEnd(40, '.'))),
    );
    expect(posted.map((r) => r.statusCode)).toEqual(posted.map(() => 201));
    const numbers = posted.map((r) => r.json().message.sequence_number as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await expectQuotaInvariant(t.database, busy.id)).toBe(30 * 40);

    // 800 bytes left: of 30 posts of 100 bytes at once, exactly 8 fit.
    const crowd = await Promise.all(
      Array.from({ length: 30 }, () => postTo('busy-room', busyToken, 'z'.repeat(100))),
    );
    expect(crowd.filter((r) => r.statusCode === 201)).toHaveLength(8);
    for (const refused of crowd.filter((r) => r.statusCode !== 201))
      expectError(refused, 413, 'QUOTA_EXCEEDED');
    expect(await expectQuotaInvariant(t.database, busy.id)).toBe(2000);
  });

  it('refuses a session revoked after it posted, and a token of a room that is gone', async () => {
    await createRoom(t.app, 'revoking-room');
    const owner = await enter(t.app, 'revoking-room');
    const victim = await enter(t.app, 'revoking-room');
    expect((await postTo('revoking-room', victim.token, 'before')).statusCode).toBe(201);
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/rooms/revoking-room/tokens/${victim.claims.jti}`,
      headers: bearer(owner.token),
    });
    expect(revoke.json()).toEqual({ revoked: true });
    expectError(await postTo('revoking-room', victim.token, 'after'), 401, 'AUTHENTICATION_FAILED');
    expect((await postTo('revoking-room', owner.token, 'owner still posts')).statusCode).toBe(201);
    await t.database.db.deleteFrom('rooms').where('slug', '=', 'revoking-room').execute();
    expectError(await postTo('revoking-room', owner.token, 'gone'), 404, 'ROOM_NOT_FOUND');
  });
});
