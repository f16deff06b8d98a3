import { randomBytes, randomInt } from 'node:crypto';
import { request } from 'node:http';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { releaseExpiredReservations } from '../../src/modules/uploads/reservations.js';
import { BlobReaper } from '../../src/storage/blob-reaper.js';
import {
  type ContentsTestApp,
  createContentsApp,
  expectQuotaInvariant,
  listen,
  sha256,
} from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';

const MiB = 1024 * 1024;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

interface Tus {
  base: string;
  token: string;
}

async function create(tus: Tus, room: string, size: number, name: string, type = 'application/octet-stream') {
  return fetch(`${tus.base}/api/v1/rooms/${encodeURIComponent(room)}/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tus.token}`,
      'tus-resumable': '1.0.0',
      'upload-length': String(size),
      'upload-metadata': `filename ${b64(name)},filetype ${b64(type)}`,
    },
  });
}

const patch = (tus: Tus, location: string, offset: number, body: Buffer) =>
  fetch(`${tus.base}${location}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${tus.token}`,
      'tus-resumable': '1.0.0',
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body,
  });

async function head(tus: Tus, location: string) {
  return fetch(`${tus.base}${location}`, {
    method: 'HEAD',
    headers: { authorization: `Bearer ${tus.token}`, 'tus-resumable': '1.0.0' },
  });
}

/** Sends `sent` bytes of a PATCH that announces `announced`, then drops the connection. */
function patchAndDrop(
  tus: Tus,
  location: string,
  offset: number,
  announced: Buffer,
  sent: number,
): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${tus.base}${location}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${tus.token}`,
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(announced.length),
      },
    });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(announced.subarray(0, sent));
    // Dropped whether or not the bytes left: the server may also stop reading first.
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 100);
  });
}

async function offsetOf(tus: Tus, location: string): Promise<number> {
  // The dropped request's write may still be settling on the server.
  for (let i = 0; i < 50; i++) {
    const res = await head(tus, location);
    if (res.status === 200) return Number(res.headers.get('upload-offset'));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('HEAD never answered 200');
}

async function downloadBytes(tus: Tus, id: number): Promise<Buffer> {
  const res = await fetch(`${tus.base}/api/v1/contents/${id}?token=${tus.token}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describeEachDatabase('tus uploads on local storage', (engine) => {
  let t: ContentsTestApp;
  let tus: Tus;
  let roomId: number;
  const room = 'tus-room';

  beforeAll(async () => {
    t = await createContentsApp({ engine });
    roomId = (await createRoom(t.app, room, { max_size: 40 * MiB })).id;
    tus = { base: await listen(t.app), token: (await enter(t.app, room)).token };
  });
  afterAll(() => t?.close());

  it('creates, reports the offset, finishes into a content and broadcasts it', async () => {
    const data = randomBytes(3 * MiB + 17);
    const created = await create(tus, room, data.length, 'report 报告.pdf', 'application/pdf');
    expect(created.status).toBe(201);
    expect(created.headers.get('tus-resumable')).toBe('1.0.0');
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/v1\/rooms\/tus-room\/uploads\/[0-9a-f]{32}$/);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(data.length);
    expect((await head(tus, location)).headers.get('upload-offset')).toBe('0');

    const first = await patch(tus, location, 0, data.subarray(0, MiB));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe(String(MiB));
    const wrong = await patch(tus, location, 5, data.subarray(5, 10));
    expect(wrong.status).toBe(409);
    const done = await patch(tus, location, MiB, data.subarray(MiB));
    expect(done.status).toBe(204);

    const event = t.events.find((e) => e.type === 'content_created');
    expect(event?.type === 'content_created' && event.content).toMatchObject({
      content_type: 'file',
      file_name: 'report 报告.pdf',
      mime_type: 'application/pdf',
      size: data.length,
    });
    const id = event?.type === 'content_created' ? event.content.id : 0;
    expect(sha256(await downloadBytes(tus, id))).toBe(sha256(data));
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(data.length);
    // A finished upload is a content now; the tus resource is closed.
    expect((await head(tus, location)).status).toBe(409);
  });

  it('refuses uploads that do not fit, deferred lengths and missing tokens', async () => {
    const before = await expectQuotaInvariant(t.database, roomId);
    const big = await create(tus, room, 41 * MiB, 'big.bin');
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED');
    const deferred = await fetch(`${tus.base}/api/v1/rooms/${room}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tus.token}`, 'tus-resumable': '1.0.0', 'upload-defer-length': '1' },
    });
    expect(deferred.status).toBe(400);
    const anonymous = await fetch(`${tus.base}/api/v1/rooms/${room}/uploads`, {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' },
    });
    expect(anonymous.status).toBe(401);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(before);
    const options = await fetch(`${tus.base}/api/v1/rooms/${room}/uploads`, { method: 'OPTIONS' });
    expect(options.headers.get('tus-extension')).toMatch(/creation.*termination.*expiration/);
  });

  it('round-trips 0 B and 1 B uploads', async () => {
    const empty = await create(tus, room, 0, 'empty.txt');
    expect(empty.status).toBe(201);
    const one = await create(tus, room, 1, 'one.bin');
    expect((await patch(tus, one.headers.get('location')!, 0, Buffer.from([7]))).status).toBe(204);
    const files = t.events
      .filter((e) => e.type === 'content_created')
      .map((e) => (e.type === 'content_created' ? e.content : undefined)!);
    const zero = files.find((f) => f.file_name === 'empty.txt')!;
    const single = files.find((f) => f.file_name === 'one.bin')!;
    expect((await downloadBytes(tus, zero.id)).length).toBe(0);
    expect(await downloadBytes(tus, single.id)).toEqual(Buffer.from([7]));
  });

  it('terminates: quota and partial bytes released', async () => {
    const before = await expectQuotaInvariant(t.database, roomId);
    const created = await create(tus, room, 2 * MiB, 'cancel.bin');
    const location = created.headers.get('location')!;
    await patch(tus, location, 0, randomBytes(MiB));
    const key = `tus/${location.split('/').pop()}`;
    expect(await t.storage.stat(key)).toEqual({ size: MiB });
    const del = await fetch(`${tus.base}${location}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tus.token}`, 'tus-resumable': '1.0.0' },
    });
    expect(del.status).toBe(204);
    expect(await t.storage.stat(key)).toBeUndefined();
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(before);
    expect((await head(tus, location)).status).toBe(404);
  });

  it('resumes after dropped connections at random offsets and after a server restart', async () => {
    const data = randomBytes(6 * MiB + 123);
    const created = await create(tus, room, data.length, 'resumed.bin');
    const location = created.headers.get('location')!;
    let offset = 0;
    for (let round = 0; round < 4; round++) {
      const rest = data.subarray(offset);
      await patchAndDrop(tus, location, offset, rest, randomInt(1, Math.min(rest.length, 2 * MiB)));
      const now = await offsetOf(tus, location);
      expect(now).toBeGreaterThanOrEqual(offset);
      offset = now;
    }
    // Restart: a second app on the same database and storage, on a new port.
    t = await t.restart();
    tus = { ...tus, base: await listen(t.app) };
    offset = await offsetOf(tus, location);
    const rest = data.subarray(offset);
    await patchAndDrop(tus, location, offset, rest, randomInt(1, Math.min(rest.length, MiB)));
    offset = await offsetOf(tus, location);
    const done = await patch(tus, location, offset, data.subarray(offset));
    expect(done.status).toBe(204);
    const content = t.events.find((e) => e.type === 'content_created');
    expect(content?.type).toBe('content_created');
    const id = content?.type === 'content_created' ? content.content.id : 0;
    expect(sha256(await downloadBytes(tus, id))).toBe(sha256(data));
    await expectQuotaInvariant(t.database, roomId);
  });
});

describeEachDatabase('upload reservation expiry', (engine) => {
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
  let t: ContentsTestApp;
  let tus: Tus;
  let roomId: number;

  beforeAll(async () => {
    t = await createContentsApp({
      engine,
      clock,
      configure: (c) => (c.upload.reservation_ttl_seconds = 600),
    });
    roomId = (await createRoom(t.app, 'expiry-room', { max_size: 10 * MiB })).id;
    tus = { base: await listen(t.app), token: (await enter(t.app, 'expiry-room')).token };
  });
  afterAll(() => t?.close());

  it('releases the quota and partial bytes of expired reservations, crash-safely', async () => {
    const created = await create(tus, 'expiry-room', 4 * MiB, 'stalled.bin');
    const location = created.headers.get('location')!;
    await patch(tus, location, 0, randomBytes(MiB));
    const prepared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/expiry-room/contents/prepare',
      headers: { authorization: `Bearer ${tus.token}` },
      payload: { files: [{ name: 'later.bin', size: 1000 }] },
    });
    expect(prepared.statusCode).toBe(200);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(4 * MiB + 1000);
    const key = `tus/${location.split('/').pop()}`;

    const release = (now: number) =>
      releaseExpiredReservations(
        { db: t.database.db, blobs: new BlobReaper({ db: t.database.db, storage: t.storage }) },
        now,
        100,
      );
    expect(await release(clock.now())).toBe(0);
    clock.advance(599_000);
    expect(await release(clock.now())).toBe(0);
    expect(await t.storage.stat(key)).toEqual({ size: MiB });

    clock.advance(2_000);
    // The tus resource is gone for the client as soon as it expired, before any collection.
    expect((await head(tus, location)).status).toBe(404);
    expect(await release(clock.now())).toBe(2);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(0);
    expect(await t.storage.stat(key)).toBeUndefined();
    expect(await t.database.db.selectFrom('upload_reservations').selectAll().execute()).toEqual([]);
    expect(await t.database.db.selectFrom('blob_deletions').selectAll().execute()).toEqual([]);
  });

  it('is the lifecycle pass step', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/expiry-room/contents/prepare',
      headers: { authorization: `Bearer ${tus.token}` },
      payload: { files: [{ name: 'x.bin', size: 5 }] },
    });
    clock.advance(601_000);
    const pass = await t.app.lifecycle.runPass();
    expect(pass.released_reservations).toBe(1);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(0);
  });
});
