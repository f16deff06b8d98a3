import { randomBytes, randomInt } from 'node:crypto';
import { request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { releaseExpiredReservations } from '../../src/modules/uploads/reservations.js';
import { BlobReaper } from '../../src/storage/blob-reaper.js';
import {
  type ContentsTestApp,
  createContentsApp,
  expectQuotaInvariant,
  listen,
  sha256,
  storedUnder,
} from '../support/contents.js';
import { type DatabaseEngine, describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';

const MiB = 1024 * 1024;
const BACKENDS = ['local', 's3'] as const;
type Backend = (typeof BACKENDS)[number];

/** Declares `body` once per storage backend; the S3 one gets an s3rver of its own. */
function eachBackend(body: (backend: Backend, s3: () => TestS3 | undefined) => void) {
  for (const backend of BACKENDS) {
    describe(`${backend} storage`, () => {
      let s3: TestS3 | undefined;
      if (backend === 's3') {
        beforeAll(async () => {
          s3 = await startS3();
        });
        afterAll(() => s3?.close());
      }
      body(backend, () => s3);
    });
  }
}

const appOn = (
  engine: DatabaseEngine,
  s3: TestS3 | undefined,
  extra: Parameters<typeof createContentsApp>[0] = {},
) => createContentsApp({ engine, ...extra, ...(s3 ? { s3: s3.settings } : {}) });
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

describeEachDatabase('tus uploads', (engine) =>
  eachBackend((backend, s3) => {
    let t: ContentsTestApp;
    let tus: Tus;
    let roomId: number;
    const room = 'tus-room';

    beforeAll(async () => {
      t = await appOn(engine, s3());
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
      // Only the content's bytes are left: no tus bookkeeping, no open multipart upload.
      const key = `tus/${location.split('/').pop()}`;
      expect(await storedUnder(t, key)).toEqual([backend === 's3' ? `elz/${key}` : key]);
    });

    it('refuses uploads that do not fit, deferred lengths and missing tokens', async () => {
      const before = await expectQuotaInvariant(t.database, roomId);
      const big = await create(tus, room, 41 * MiB, 'big.bin');
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED');
      const deferred = await fetch(`${tus.base}/api/v1/rooms/${room}/uploads`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tus.token}`,
          'tus-resumable': '1.0.0',
          'upload-defer-length': '1',
        },
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

    it('never overfills a room under 20 parallel tus creations with space for 5', async () => {
      const raceRoom = `tus-race-${Math.random().toString(36).slice(2, 8)}`;
      const created = await createRoom(t.app, raceRoom, { max_size: 5 * 1000 + 999 });
      const race = { ...tus, token: (await enter(t.app, raceRoom)).token };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => create(race, raceRoom, 1000, `race-${i}.bin`)),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.filter((s) => s === 413)).toHaveLength(15);
      expect(await expectQuotaInvariant(t.database, created.id)).toBe(5000);
      // The 5 finish in parallel too; the room holds exactly their bytes.
      const finished = await Promise.all(
        results
          .filter((r) => r.status === 201)
          .map((r) => patch(race, r.headers.get('location')!, 0, randomBytes(1000))),
      );
      expect(finished.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
      expect(await expectQuotaInvariant(t.database, created.id)).toBe(5000);
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
      // Nothing of tus's bookkeeping is left (an empty S3 upload never completes its multipart upload).
      const key = `tus/${empty.headers.get('location')!.split('/').pop()}`;
      expect(await storedUnder(t, key)).toEqual([backend === 's3' ? `elz/${key}` : key]);
    });

    it('terminates: quota and partial bytes released', async () => {
      const before = await expectQuotaInvariant(t.database, roomId);
      const created = await create(tus, room, 2 * MiB, 'cancel.bin');
      const location = created.headers.get('location')!;
      await patch(tus, location, 0, randomBytes(MiB));
      const key = `tus/${location.split('/').pop()}`;
      expect((await head(tus, location)).headers.get('upload-offset')).toBe(String(MiB));
      expect((await storedUnder(t, key)).length).toBeGreaterThan(0);
      const del = await fetch(`${tus.base}${location}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${tus.token}`, 'tus-resumable': '1.0.0' },
      });
      expect(del.status).toBe(204);
      expect(await storedUnder(t, key)).toEqual([]);
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
      const key = `tus/${location.split('/').pop()}`;
      expect(await storedUnder(t, key)).toEqual([backend === 's3' ? `elz/${key}` : key]);
    });
  }),
);

describeEachDatabase('upload reservation expiry', (engine) =>
  eachBackend((_backend, s3) => {
    const clock = new ManualClock(Date.UTC(2026, 10, 28, 10, 0, 0));
    let t: ContentsTestApp;
    let tus: Tus;
    let roomId: number;

    beforeAll(async () => {
      t = await appOn(engine, s3(), {
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
      expect((await storedUnder(t, key)).length).toBeGreaterThan(0);

      clock.advance(2_000);
      // The tus resource is gone for the client as soon as it expired, before any collection.
      expect((await head(tus, location)).status).toBe(404);
      expect(await release(clock.now())).toBe(2);
      expect(await expectQuotaInvariant(t.database, roomId)).toBe(0);
      expect(await storedUnder(t, key)).toEqual([]);
      expect(await storedUnder(t)).toEqual([]);
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
  }),
);

/**
 * A multipart upload that sends its part header and `sent` bytes of a file announced as `size`
 * bytes, then holds the connection open (mid-upload) until `drop()`.
 */
function multipartInFlight(base: string, url: string, token: string, size: number, sent: number) {
  const boundary = 'elzinflightboundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in-flight.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = request(`${base}${url}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + size + tail.length),
    },
  });
  const settled = new Promise<void>((resolve) => {
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
  });
  req.write(head);
  req.write(randomBytes(sent));
  return {
    drop: async () => {
      req.destroy();
      await settled;
    },
  };
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describeEachDatabase('a room deleted mid-upload', (engine) =>
  eachBackend((_backend, s3) => {
    let t: ContentsTestApp;

    beforeAll(async () => {
      t = await appOn(engine, s3());
    });
    afterAll(() => t?.close());

    it('leaves no bytes of its tus, one-shot and two-step uploads behind', async () => {
      const room = 'doomed-room';
      await createRoom(t.app, room, { max_size: 100 * MiB });
      const token = (await enter(t.app, room)).token;
      const tus = { base: await listen(t.app), token };

      const created = await create(tus, room, 4 * MiB, 'partial.bin');
      const location = created.headers.get('location')!;
      expect((await patch(tus, location, 0, randomBytes(MiB))).status).toBe(204);
      // Over one S3 part (8 MiB), so the S3 backend has a multipart upload open by then.
      const oneShot = multipartInFlight(tus.base, `/api/v1/rooms/${room}/contents`, token, 20 * MiB, 9 * MiB);
      const prepared = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${room}/contents/prepare`,
        headers: bearer(token),
        payload: { files: [{ name: 'in-flight.bin', size: 20 * MiB }] },
      });
      expect(prepared.statusCode, prepared.body).toBe(200);
      const twoStep = multipartInFlight(
        tus.base,
        `/api/v1/rooms/${room}/contents?reservation_id=${prepared.json().reservation_id}`,
        token,
        20 * MiB,
        9 * MiB,
      );
      // Both multipart uploads have recorded their keys and written bytes.
      await eventually(
        async () => (await storedUnder(t, 'rooms/')).length >= 2,
        'both multipart uploads have bytes in the storage',
      );
      expect((await storedUnder(t, 'tus/')).length).toBeGreaterThan(0);

      const deleted = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/${room}`,
        headers: bearer(token),
      });
      expect(deleted.statusCode, deleted.body).toBe(200);
      // Every key of the room's unfinished uploads is queued: the tus key and the manifests' keys.
      const queued = await t.database.db.selectFrom('blob_deletions').select('storage_key').execute();
      expect(queued.filter((q) => q.storage_key.startsWith('rooms/'))).toHaveLength(2);
      expect(queued.filter((q) => q.storage_key.startsWith('tus/'))).toHaveLength(1);
      await t.app.lifecycle.runPass();
      // Gone while the two clients are still sending.
      expect(await storedUnder(t)).toEqual([]);

      await Promise.all([oneShot.drop(), twoStep.drop()]);
      await eventually(async () => {
        const left = await t.database.db.selectFrom('blob_deletions').select('id').execute();
        const reservations = await t.database.db.selectFrom('upload_reservations').select('id').execute();
        return left.length === 0 && reservations.length === 0 && (await storedUnder(t)).length === 0;
      }, 'nothing stored, queued or reserved');
      expect(await t.database.db.selectFrom('contents').select('id').execute()).toEqual([]);
    });
  }),
);
