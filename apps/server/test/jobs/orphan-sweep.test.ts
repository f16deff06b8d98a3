import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

import {
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { sweepOrphans } from '../../src/jobs/orphan-sweep.js';
import { ManualClock } from '../../src/lib/clock.js';
import { s3ClientConfig } from '../../src/storage/s3-storage.js';
import { HttpClient } from '../realtime/http-client.js';
import { type ContentsTestApp, createContentsApp, listen } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { storedObjects } from '../support/stored.js';

const HOUR = 3_600_000;
const tusKey = () => `tus/${randomBytes(16).toString('hex')}`;

/**
 * The orphan sweep of the lifecycle (QUALITY.md: no bytes without a row, even after a crash):
 * bytes that no content, reservation or queued deletion names — a finished file whose row was
 * never written, an interrupted write (a local `.partial` file, an S3 multipart upload never
 * completed), a tus upload with its bookkeeping — are removed once older than one reservation
 * TTL; everything a row names, everything younger and everything the server did not write stays.
 */
for (const backend of ['local', 's3'] as const) {
  describeEachDatabase(`orphan sweep on ${backend} storage`, (engine) => {
    let s3: TestS3 | undefined;
    let client: S3Client | undefined;
    let t: ContentsTestApp;
    let clock: ManualClock;
    let roomId: number;
    let member: HttpClient;
    /** S3 settings of the current test: a prefix of its own in the shared bucket. */
    let settings: TestS3['settings'] | undefined;

    beforeAll(async () => {
      if (backend === 's3') {
        s3 = await startS3();
        client = new S3Client(s3ClientConfig(s3.settings));
      }
    });
    afterAll(async () => {
      client?.destroy();
      await s3?.close();
    });
    beforeEach(async () => {
      clock = new ManualClock(Date.now());
      settings = s3 && { ...s3.settings, prefix: `${s3.settings.prefix}${randomUUID()}/` };
      t = await createContentsApp({ engine, clock, ...(settings ? { s3: settings } : {}) });
      const base = await listen(t.app);
      roomId = (await createRoom(t.app, 'sweep-room')).id as number;
      member = new HttpClient(base, (await enter(t.app, 'sweep-room')).token);
    });
    afterEach(async () => {
      await t.close();
    });

    const stored = () => storedObjects(t.config.storage, settings);
    const openUploads = async () =>
      s3 && settings
        ? (await s3.openUploads())
            .filter((k) => k.startsWith(settings!.prefix))
            .map((k) => k.slice(settings!.prefix.length))
        : [];
    const localPath = (name: string) => join(t.config.storage.root, name);

    /** A write a crash interrupted, as each backend leaves it. */
    async function interruptedWrite(key: string): Promise<void> {
      if (!client) {
        const path = localPath(`${key}.partial`);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, randomBytes(4096));
        return;
      }
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: settings!.bucket, Key: settings!.prefix + key }),
      );
      await client.send(
        new UploadPartCommand({
          Bucket: settings!.bucket,
          Key: settings!.prefix + key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(4096),
        }),
      );
    }

    /** A tus upload that lost its reservation: bytes and bookkeeping as each tus store keeps them. */
    async function lostTusUpload(key: string): Promise<void> {
      if (!client) {
        mkdirSync(localPath('tus'), { recursive: true });
        writeFileSync(localPath(key), randomBytes(2048));
        writeFileSync(localPath(`${key}.json`), JSON.stringify({ id: key, size: 8192, offset: 2048 }));
        return;
      }
      await interruptedWrite(key);
      await client.send(
        new PutObjectCommand({
          Bucket: settings!.bucket,
          Key: `${settings!.prefix}${key}.info`,
          Body: JSON.stringify({ id: key, size: 8192, offset: 0 }),
        }),
      );
    }

    /** Bytes at `key` with nothing naming them: a finished write whose row was lost. */
    const strayBlob = (key: string) => t.storage.put(key, Readable.from([randomBytes(1024)]));

    async function scene() {
      // Named: a content (one-shot upload), a reservation's manifest, a queued deletion.
      await member.upload('sweep-room', [{ name: 'kept.txt', content: Buffer.from('kept') }]);
      const [content] = await t.database.db.selectFrom('contents').select('storage_key').execute();
      const reservedKey = `rooms/${roomId}/${randomUUID()}`;
      const { reservation_id } = await member.json<{ reservation_id: number }>(
        'POST',
        '/api/v1/rooms/sweep-room/contents/prepare',
        { files: [{ name: 'later.bin', size: 10 }] },
        200,
      );
      await t.database.db
        .updateTable('upload_reservations')
        .set({
          manifest: JSON.stringify({
            files: [{ name: 'later.bin', size: 10, mime: null, key: reservedKey }],
          }),
        })
        .where('id', '=', reservation_id)
        .execute();
      await interruptedWrite(reservedKey);
      const queuedKey = `rooms/${roomId}/${randomUUID()}`;
      await strayBlob(queuedKey);
      await t.database.db
        .insertInto('blob_deletions')
        .values({ storage_key: queuedKey, created_at: clock.now() })
        .execute();
      // Not the server's: another program's file beside ours, a name of no key shape.
      const foreign = ['notes/readme.txt', `rooms/${roomId}/not-a-key`];
      for (const name of foreign) await t.storage.put(name, Readable.from([Buffer.from('foreign')]));
      // Orphans: a finished file, an interrupted write, a tus upload and its bookkeeping.
      const orphans = [`rooms/${roomId}/${randomUUID()}`, `rooms/${roomId + 1}/${randomUUID()}`, tusKey()];
      await strayBlob(orphans[0]!);
      await interruptedWrite(orphans[1]!);
      await lostTusUpload(orphans[2]!);
      return { named: [content!.storage_key!, reservedKey, queuedKey], foreign, orphans };
    }

    const owned = (keys: string[]) => (name: string) =>
      keys.some((k) => name === k || name.startsWith(`${k}.`));

    it('removes what no row names once it is older than the threshold, and nothing else', async () => {
      const { named, foreign, orphans } = await scene();
      const before = await stored();
      const openBefore = await openUploads();
      expect(
        before.filter(owned(orphans)).length + openBefore.filter(owned(orphans)).length,
      ).toBeGreaterThanOrEqual(orphans.length + 1);

      // Everything is younger than the threshold: nothing goes.
      expect(await sweepOrphans({ db: t.database.db, storage: t.storage }, Date.now() - HOUR)).toBe(0);
      expect(await stored()).toEqual(before);
      expect(await openUploads()).toEqual(openBefore);

      expect(await sweepOrphans({ db: t.database.db, storage: t.storage }, Date.now() + HOUR)).toBe(
        orphans.length,
      );
      const after = await stored();
      expect(after.filter(owned(orphans))).toEqual([]);
      expect(await openUploads()).toEqual(openBefore.filter((k) => !owned(orphans)(k)));
      expect(after).toEqual(before.filter((name) => !owned(orphans)(name)));
      for (const name of foreign) expect(after).toContain(name);
      // The content's file, the reservation's interrupted write and the queued key are all still there.
      expect(after).toContain(named[0]);
      expect([...after, ...(await openUploads())].some(owned([named[1]!]))).toBe(true);
      expect(after).toContain(named[2]);

      // A second sweep finds nothing more.
      expect(await sweepOrphans({ db: t.database.db, storage: t.storage }, Date.now() + HOUR)).toBe(0);
    });

    it('runs in the first lifecycle pass, then once per gc.orphan_sweep_interval_seconds', async () => {
      const ttl = t.config.upload.reservation_ttl_seconds * 1000;
      const interval = t.config.gc.orphan_sweep_interval_seconds * 1000;
      const first = `rooms/${roomId}/${randomUUID()}`;
      await strayBlob(first);
      // The pass's threshold is one reservation TTL before its clock.
      expect((await t.app.lifecycle.runPass()).orphans_deleted).toBe(0);
      expect(await stored()).toContain(first);

      // A fresh app's first pass sweeps (after a crash, the restart cleans up).
      const restarted = await t.restart();
      t = restarted;
      clock.set(Date.now() + ttl + 1000);
      expect((await t.app.lifecycle.runPass()).orphans_deleted).toBe(1);
      expect(await stored()).not.toContain(first);

      const second = `rooms/${roomId}/${randomUUID()}`;
      await strayBlob(second);
      clock.set(Date.now() + ttl + 60_000);
      expect((await t.app.lifecycle.runPass()).orphans_deleted).toBe(0);
      expect(await stored()).toContain(second);
      clock.advance(interval);
      expect((await t.app.lifecycle.runPass()).orphans_deleted).toBe(1);
      expect(await stored()).not.toContain(second);
    });
  });
}

describe('orphan sweep age on local storage', () => {
  it('uses the last write of a key: an old interrupted write goes, a recently written one stays', async () => {
    const t = await createContentsApp({});
    try {
      const root = t.config.storage.root;
      const write = (name: string, ageMs: number) => {
        const path = join(root, name);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, 'x');
        const at = new Date(Date.now() - ageMs);
        utimesSync(path, at, at);
      };
      const stale = `rooms/1/${randomUUID()}`;
      const active = tusKey();
      write(`${stale}.partial`, 2 * HOUR);
      write(active, 10_000);
      write(`${active}.json`, 2 * HOUR);
      expect(await sweepOrphans({ db: t.database.db, storage: t.storage }, Date.now() - HOUR)).toBe(1);
      expect(await storedObjects(t.config.storage)).toEqual([active, `${active}.json`].sort());
    } finally {
      await t.close();
    }
  });
});
