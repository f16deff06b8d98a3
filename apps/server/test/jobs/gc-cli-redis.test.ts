import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { WS_CLOSE } from '@elizabeth/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import { ManualClock } from '../../src/lib/clock.js';
import { LocalStorage } from '../../src/storage/index.js';
import { PrivateRedis, redisServerAvailability } from '../realtime/redis-server.js';
import { listen, WsClient } from '../realtime/ws-client.js';
import { TEST_JWT_SECRET } from '../support/app.js';
import { uploadOneShot } from '../support/contents.js';
import { createRoom, enter } from '../support/rooms.js';
import { describeWithService } from '../support/services.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));

/**
 * WEBSOCKET.md: `elizabeth gc` run from the command line publishes its `room_expired` closes
 * through Redis, so a running server closes the sockets of the rooms the command purged.
 */
describeWithService('redis-server', redisServerAvailability(), 'elizabeth gc with Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-gc-redis-'));
  const dbUrl = `sqlite://${join(dir, 'gc.db')}`;
  const storageRoot = join(dir, 'storage');
  let redis: PrivateRedis;
  let database: Database;
  let app: FastifyInstance;
  let wsUrl: string;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    const { config } = loadConfig({
      env: {
        JWT_SECRET: TEST_JWT_SECRET,
        WEB_ROOT: join(dir, 'no-web'),
        DATABASE_URL: dbUrl,
        STORAGE_ROOT: storageRoot,
        REDIS_URL: redis.url,
      },
      cwd: dir,
      homeDir: dir,
    });
    database = await createDatabase(config.database);
    await migrateToLatest(database, { backup: false });
    // The server's clock is an hour behind, so its rooms are already expired for the command.
    app = await buildApp({
      config,
      database,
      storage: new LocalStorage(storageRoot),
      clock: new ManualClock(Date.now() - 3600_000),
    });
    wsUrl = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes the sockets of the rooms it purged on the running server', async () => {
    await expect
      .poll(async () => (await app.inject({ url: '/api/v1/status' })).json().realtime.bus_connected, {
        timeout: 10_000,
      })
      .toBe(true);
    const room = await createRoom(app, 'cli-doomed', { age_seconds: 60 });
    await createRoom(app, 'cli-kept', { age_seconds: 86_400 });
    const doomed = await enter(app, 'cli-doomed');
    const kept = await enter(app, 'cli-kept');
    const uploaded = await uploadOneShot(app, 'cli-doomed', doomed.token, [
      { name: 'a.txt', content: Buffer.from('bytes of an expired room') },
    ]);
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const file = await database.db
      .selectFrom('contents')
      .select('storage_key')
      .where('room_id', '=', room.id as number)
      .executeTakeFirstOrThrow();
    const path = join(storageRoot, file.storage_key!);
    expect(existsSync(path)).toBe(true);
    const onDoomed = await WsClient.connect(wsUrl, doomed.token, 'cli-doomed');
    const onKept = await WsClient.connect(wsUrl, kept.token, 'cli-kept');

    try {
      const output = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'gc', '--db-url', dbUrl], {
          env: { PATH: process.env.PATH, HOME: dir, STORAGE_ROOT: storageRoot, REDIS_URL: redis.url },
          cwd: dir,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
      expect(output.code, output.stderr).toBe(0);
      expect(output.stdout).toContain('expired_rooms: 1\n');

      expect((await onDoomed.next('error')).payload.code).toBe('room_expired');
      expect(await onDoomed.expectClose()).toEqual({ code: WS_CLOSE.ROOM_EXPIRED, reason: 'room_expired' });
      expect(existsSync(path)).toBe(false);
      onKept.send({ message_type: 'ping' });
      expect((await onKept.next('pong')).payload).toBeNull();
      expect(onKept.frames.filter((f) => f.message_type === 'error')).toEqual([]);
    } finally {
      await Promise.all([onDoomed.close(), onKept.close()]);
    }
  });
});
