import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { RoomView } from '@elizabeth/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import { ManualClock } from '../../src/lib/clock.js';
import { startServer } from '../../src/main.js';
import { LocalStorage } from '../../src/storage/index.js';
import { HttpClient } from '../realtime/http-client.js';
import { TEST_JWT_SECRET } from '../support/app.js';
import { type ContentsTestApp, createContentsApp, listen } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';

const KiB = 1024;
const TTL_SECONDS = 600;
const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));

/**
 * API.md §6 "release expired upload reservations (quota and partial bytes)", end to end: a tus
 * upload started and half sent over real HTTP, then left; once `upload.reservation_ttl_seconds`
 * passed, the lifecycle pass (the app's own, as the scheduler and `POST /admin/gc` run it) gives
 * the quota back and deletes the partial bytes and tus's bookkeeping.
 */
describeEachDatabase('lifecycle pass releases expired upload reservations', (engine) => {
  let t: ContentsTestApp;
  let clock: ManualClock;
  let member: HttpClient;
  const room = 'stalled-room';
  const MAX = 256 * KiB;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 28, 9));
    t = await createContentsApp({
      engine,
      clock,
      configure: (config) => (config.upload.reservation_ttl_seconds = TTL_SECONDS),
    });
    await createRoom(t.app, room, { max_size: MAX, age_seconds: 86_400 });
    member = new HttpClient(await listen(t.app), (await enter(t.app, room)).token);
  });
  afterEach(() => t?.close());

  const roomView = () => member.json<RoomView>('GET', `/api/v1/rooms/${room}`, undefined, 200);
  const fileOf = (upload: string) => join(t.config.storage.root, 'tus', upload.split('/').pop()!);

  it('gives the quota back and deletes the partial bytes once the reservation expired', async () => {
    const upload = await member.tusCreate(room, 200 * KiB, 'stalled.bin');
    expect(await member.tusPatch(upload, 0, randomBytes(80 * KiB))).toBe(80 * KiB);
    expect((await roomView()).current_size).toBe(200 * KiB);
    const file = fileOf(upload);
    expect(statSync(file).size).toBe(80 * KiB);
    expect(existsSync(`${file}.json`)).toBe(true);
    // While the reservation holds, the room cannot take another 100 KiB.
    await expect(member.tusCreate(room, 100 * KiB, 'other.bin')).rejects.toThrow(/413/);

    clock.advance((TTL_SECONDS - 1) * 1000);
    expect((await t.app.lifecycle.runPass()).released_reservations).toBe(0);
    expect(await member.tusHead(upload)).toEqual({ status: 200, offset: 80 * KiB });
    expect((await roomView()).current_size).toBe(200 * KiB);
    expect(existsSync(file)).toBe(true);

    clock.advance(2_000);
    const pass = await t.app.lifecycle.runPass();
    expect(pass).toMatchObject({ skipped: false, released_reservations: 1 });
    expect((await roomView()).current_size).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.json`)).toBe(false);
    expect(await t.database.db.selectFrom('upload_reservations').selectAll().execute()).toEqual([]);
    expect(await t.database.db.selectFrom('blob_deletions').selectAll().execute()).toEqual([]);
    expect((await member.tusHead(upload)).status).toBe(404);
    await expect(member.tusPatch(upload, 80 * KiB, randomBytes(KiB))).rejects.toThrow(/404/);

    // The quota is really back: the whole room fits in one new upload.
    const again = await member.tusCreate(room, MAX, 'whole.bin');
    expect(await member.tusHead(again)).toEqual({ status: 200, offset: 0 });
    expect((await t.app.lifecycle.runPass()).released_reservations).toBe(0);
  });
});

/**
 * The same through the two ways a pass runs outside a test's hands: the scheduler of a started
 * server (`startServer` runs one pass at start) and `elizabeth gc`. The upload is left by an
 * app whose clock is an hour behind, so its reservation is expired by the real clock.
 */
describe('expired reservations are released by the scheduler and by elizabeth gc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-release-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let config: AppConfig;
  let database: Database;
  let n = 0;

  beforeAll(() => {
    ({ config } = loadConfig({
      env: { JWT_SECRET: TEST_JWT_SECRET, WEB_ROOT: join(dir, 'no-web') },
      cwd: dir,
      homeDir: dir,
    }));
  });

  /** A fresh SQLite database and storage with one room holding a stalled, expired tus upload. */
  async function stalledUpload() {
    n += 1;
    const dbUrl = `sqlite://${join(dir, `release-${n}.db`)}`;
    const storageRoot = join(dir, `storage-${n}`);
    const setup = {
      ...config,
      database: { ...config.database, url: dbUrl },
      storage: { ...config.storage, root: storageRoot },
      upload: { ...config.upload, reservation_ttl_seconds: TTL_SECONDS },
    };
    database = await createDatabase(setup.database);
    await migrateToLatest(database, { backup: false });
    const storage = new LocalStorage(storageRoot);
    const app = await buildApp({
      config: setup,
      database,
      storage,
      clock: new ManualClock(Date.now() - 3600_000),
    });
    try {
      const { id } = await createRoom(app, 'left-room', { max_size: 100 * KiB, age_seconds: 86_400 });
      const member = new HttpClient(await listen(app), (await enter(app, 'left-room')).token);
      const upload = await member.tusCreate('left-room', 50 * KiB, 'left.bin');
      await member.tusPatch(upload, 0, randomBytes(10 * KiB));
      const file = join(storageRoot, 'tus', upload.split('/').pop()!);
      expect(existsSync(file)).toBe(true);
      return { dbUrl, storageRoot, roomId: id as number, file };
    } finally {
      // fetch keeps its connection alive; the app must not wait for it to time out.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    }
  }

  async function expectReleased(roomId: number, file: string) {
    const room = await database.db
      .selectFrom('rooms')
      .select('current_size')
      .where('id', '=', roomId)
      .executeTakeFirstOrThrow();
    expect(room.current_size).toBe(0);
    expect(await database.db.selectFrom('upload_reservations').selectAll().execute()).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.json`)).toBe(false);
  }

  it('the scheduler of a started server releases it in the pass it runs at start', async () => {
    const { dbUrl, storageRoot, roomId, file } = await stalledUpload();
    const loaded = loadConfig({
      env: {
        JWT_SECRET: TEST_JWT_SECRET,
        WEB_ROOT: join(dir, 'no-web'),
        DATABASE_URL: dbUrl,
        STORAGE_ROOT: storageRoot,
      },
      cwd: dir,
      homeDir: dir,
    });
    loaded.config.server.addr = '127.0.0.1';
    loaded.config.server.port = 0;
    loaded.config.gc.interval_seconds = 3600;
    const server = await startServer(loaded, { logger: pino({ level: 'silent' }) });
    try {
      await expect
        .poll(() => database.db.selectFrom('upload_reservations').selectAll().execute(), { timeout: 10_000 })
        .toEqual([]);
      await expectReleased(roomId, file);
    } finally {
      await server.close();
      await database.close();
    }
  });

  it('elizabeth gc releases it and says so', async () => {
    const { dbUrl, storageRoot, roomId, file } = await stalledUpload();
    try {
      const output = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'gc', '--db-url', dbUrl], {
          env: { PATH: process.env.PATH, HOME: dir, STORAGE_ROOT: storageRoot },
          cwd: dir,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
      expect(output.code, output.stderr).toBe(0);
      expect(output.stdout).toContain('released_reservations: 1\n');
      await expectReleased(roomId, file);
    } finally {
      await database.close();
    }
  });
});
