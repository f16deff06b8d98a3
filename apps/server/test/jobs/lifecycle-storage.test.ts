import { randomBytes } from 'node:crypto';

import { WS_CLOSE } from '@elizabeth/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { HttpClient } from '../realtime/http-client.js';
import { WsClient } from '../realtime/ws-client.js';
import { type ContentsTestApp, createContentsApp, listen } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { storedObjects } from '../support/stored.js';

const KiB = 1024;
/**
 * Backends whose test double can run tus: s3rver has no ListParts, which @tus/s3-store calls on
 * every tus request, so on S3 the room is filled without tus.
 */
const TUS_BACKENDS = new Set(['local']);

/**
 * API.md §6 end to end: an expired room, filled through the real API (message, one-shot file,
 * finished tus upload, unfinished tus upload, unused reservation) is purged by the lifecycle
 * pass: its sockets get `room_expired` and close 4104, and every byte it stored is gone from
 * the backend (disk or S3), tus bookkeeping included; a live room beside it keeps everything.
 */
for (const backend of ['local', 's3'] as const) {
  describeEachDatabase(`lifecycle pass purges an expired room on ${backend} storage`, (engine) => {
    let s3: TestS3 | undefined;
    let t: ContentsTestApp;
    let base: string;
    let clock: ManualClock;
    const clients: WsClient[] = [];

    beforeAll(async () => {
      if (backend === 's3') s3 = await startS3();
    });
    afterAll(async () => {
      await s3?.close();
    });
    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
      t = await createContentsApp({ engine, clock, ...(s3 ? { s3: s3.settings } : {}) });
      base = await listen(t.app);
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await t.close();
    });

    const stored = () => storedObjects(t.config.storage, s3?.settings);

    /** Fills a room through the API; returns its member and the path of its unfinished upload. */
    async function fill(room: string, seconds: number) {
      const { id } = await createRoom(t.app, room, { age_seconds: seconds, max_size: 10 * 1024 * KiB });
      const member = new HttpClient(base, (await enter(t.app, room)).token);
      const path = `/api/v1/rooms/${room}`;
      await member.json('POST', `${path}/messages`, { text: `hello from ${room}` }, 201);
      await member.upload(room, [
        { name: 'a.txt', content: Buffer.from(`a file of ${room}`) },
        { name: 'b.png', content: randomBytes(2 * KiB), type: 'image/png' },
      ]);
      const report = randomBytes(3 * KiB);
      const { reservation_id } = await member.json<{ reservation_id: number }>(
        'POST',
        `${path}/contents/prepare`,
        { files: [{ name: 'report.bin', size: report.length }] },
        200,
      );
      await member.upload(room, [{ name: 'report.bin', content: report }], reservation_id);
      await member.json(
        'POST',
        `${path}/contents/prepare`,
        { files: [{ name: 'later.bin', size: 10 }] },
        200,
      );
      if (!TUS_BACKENDS.has(backend)) return { id: id as number, member, partial: undefined };
      const finished = randomBytes(40 * KiB);
      const done = await member.tusCreate(room, finished.length, 'done.bin');
      await member.tusPatch(done, 0, finished);
      const partial = await member.tusCreate(room, 64 * KiB, 'partial.bin');
      expect(await member.tusPatch(partial, 0, randomBytes(16 * KiB))).toBe(16 * KiB);
      return { id: id as number, member, partial };
    }

    /** The storage keys the database knows for a room (contents and reservations). */
    async function keysOf(roomId: number): Promise<string[]> {
      const db = t.database.db;
      const rows = [
        ...(await db.selectFrom('contents').select('storage_key').where('room_id', '=', roomId).execute()),
        ...(await db
          .selectFrom('upload_reservations')
          .select('storage_key')
          .where('room_id', '=', roomId)
          .execute()),
      ];
      // A finished tus upload's key is on its content and on its consumed reservation.
      return [...new Set(rows.map((r) => r.storage_key).filter((k): k is string => k !== null))];
    }

    it('closes its sockets with room_expired and removes its files, finished and partial uploads', async () => {
      const doomed = await fill('doomed-room', 60);
      const kept = await fill('kept-room', 86_400);
      const doomedKeys = await keysOf(doomed.id);
      // Two one-shot files, the two-step file and, with tus, the finished and the unfinished upload.
      expect(doomedKeys).toHaveLength(TUS_BACKENDS.has(backend) ? 5 : 3);
      const ownedBy = (keys: string[]) => (object: string) =>
        keys.some((k) => object === k || object.startsWith(`${k}.`));
      const before = await stored();
      const doomedObjects = before.filter(ownedBy(doomedKeys));
      // Every key is stored, and the partial upload's tus bookkeeping sits beside its bytes.
      for (const key of doomedKeys) expect(doomedObjects).toContain(key);
      if (doomed.partial) expect(doomedObjects.length).toBeGreaterThan(doomedKeys.length);
      const keptObjects = before.filter((o) => !doomedObjects.includes(o));
      expect(keptObjects.filter(ownedBy(await keysOf(kept.id)))).toEqual(keptObjects);

      const sockets = [];
      for (let i = 0; i < 2; i += 1) {
        const { token } = await enter(t.app, 'doomed-room');
        sockets.push(await WsClient.connect(doomed.member.wsUrl, token, 'doomed-room'));
      }
      const bystander = await WsClient.connect(kept.member.wsUrl, kept.member.token, 'kept-room');
      clients.push(...sockets, bystander);

      // Not yet expired: nothing happens.
      expect((await t.app.lifecycle.runPass()).expired_rooms).toBe(0);
      expect(await stored()).toEqual(before);

      clock.advance(61_000);
      const result = await t.app.lifecycle.runPass();
      expect(result).toMatchObject({ skipped: false, expired_rooms: 1 });
      expect(result.blobs_deleted).toBe(doomedKeys.length);
      for (const socket of sockets) {
        expect((await socket.next('error')).payload).toEqual({
          code: 'room_expired',
          message: expect.any(String),
        });
        expect(await socket.expectClose()).toEqual({ code: WS_CLOSE.ROOM_EXPIRED, reason: 'room_expired' });
      }

      expect(await stored()).toEqual(keptObjects);
      const db = t.database.db;
      for (const table of ['contents', 'upload_reservations', 'sessions'] as const) {
        expect(
          await db.selectFrom(table).select('room_id').where('room_id', '=', doomed.id).execute(),
        ).toEqual([]);
      }
      expect(await db.selectFrom('blob_deletions').selectAll().execute()).toEqual([]);

      // The live room lost nothing: its partial upload still resumes, its socket is still open.
      if (kept.partial) {
        expect(await kept.member.tusHead(kept.partial)).toEqual({ status: 200, offset: 16 * KiB });
      }
      bystander.send({ message_type: 'ping' });
      expect((await bystander.next('pong')).payload).toBeNull();
      expect(bystander.frames.filter((f) => f.message_type === 'error')).toEqual([]);
    });
  });
}
