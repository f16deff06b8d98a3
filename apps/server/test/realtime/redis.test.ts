import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { WS_CLOSE } from '@elizabeth/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import type { RoomEvent } from '../../src/realtime/events.js';
import { RedisEventBus } from '../../src/realtime/redis-event-bus.js';
import { LocalStorage } from '../../src/storage/index.js';
import { freePort } from '../server/ports.js';
import { TEST_JWT_SECRET } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testDatabaseEngines } from '../support/db.js';
import { bearer, createRoom, enter } from '../support/rooms.js';
import { describeWithService, type ServiceAvailability } from '../support/services.js';
import { listen, WsClient } from './ws-client.js';

const REDIS_URL = process.env.ELIZABETH_TEST_REDIS_URL;
const redisServerBinary = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
const redis: ServiceAvailability = REDIS_URL
  ? { available: true }
  : { available: false, reason: 'ELIZABETH_TEST_REDIS_URL is not set' };
const postgres = testDatabaseEngines().find((e) => e.engine === 'postgres')!.availability;
const twoInstances: ServiceAvailability = !redis.available
  ? redis
  : !redisServerBinary
    ? { available: false, reason: 'no redis-server binary to run a private, restartable Redis' }
    : postgres;

const prefix = () => `elz-test-${randomBytes(6).toString('hex')}`;

describeWithService('Redis', redis, 'Redis event bus', () => {
  it('delivers an event to the other instance once and to itself at once; reports its connection', async () => {
    const channelPrefix = prefix();
    const a = new RedisEventBus({ url: REDIS_URL!, prefix: channelPrefix, heartbeatTtlMs: 3000 });
    const b = new RedisEventBus({ url: REDIS_URL!, prefix: channelPrefix, heartbeatTtlMs: 3000 });
    try {
      const seenA: RoomEvent[] = [];
      const seenB: RoomEvent[] = [];
      a.subscribe((e) => seenA.push(e));
      b.subscribe((e) => seenB.push(e));
      await expect.poll(() => a.status().connected && b.status().connected).toBe(true);
      // A subscription is live once the subscriber answered; give it the round trip.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < 50; i += 1) {
        a.publish({ type: 'session_created', room_id: 1, slug: 'r', jti: `j${i}` });
      }
      expect(seenA).toHaveLength(50);
      await expect.poll(() => seenB.length).toBe(50);
      expect(seenB.map((e) => (e.type === 'session_created' ? e.jti : ''))).toEqual(
        Array.from({ length: 50 }, (_, i) => `j${i}`),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seenA).toHaveLength(50);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describeWithService(
  'Redis + PostgreSQL',
  twoInstances,
  'two server instances on one database and one Redis',
  () => {
    let redisPort: number;
    let redisProcess: ChildProcess | undefined;
    let testDb: TestDatabase;
    const dir = mkdtempSync(join(tmpdir(), 'elz-two-'));
    const apps: Array<{ app: FastifyInstance; database: Database; url: string }> = [];
    const clients: WsClient[] = [];

    async function startRedis(): Promise<void> {
      const child = spawn(
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      redisProcess = child;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
      });
    }

    async function stopRedis(): Promise<void> {
      const child = redisProcess;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      redisProcess = undefined;
    }

    const status = async (i: number) =>
      (await apps[i]!.app.inject({ url: '/api/v1/status' })).json<{
        realtime: { bus: string; bus_connected: boolean };
      }>().realtime;

    beforeAll(async () => {
      redisPort = await freePort();
      await startRedis();
      testDb = await createTestDatabase('postgres');
      const channelPrefix = prefix();
      for (let i = 0; i < 2; i += 1) {
        const { config } = loadConfig({
          env: {
            JWT_SECRET: TEST_JWT_SECRET,
            WEB_ROOT: join(dir, 'no-web'),
            STORAGE_ROOT: join(dir, 'storage'),
          },
          cwd: dir,
          homeDir: dir,
        });
        config.database = testDb.config;
        config.realtime.redis_url = `redis://127.0.0.1:${redisPort}`;
        config.realtime.ping_interval_seconds = 0.5;
        const database = await createDatabase(config.database);
        if (i === 0) await migrateToLatest(database, { backup: false });
        const app = await buildApp({
          config,
          database,
          storage: new LocalStorage(config.storage.root),
          realtimePrefix: channelPrefix,
        });
        apps.push({ app, database, url: await listen(app) });
      }
      for (
        let i = 0;
        i < 100 && !((await status(0)).bus_connected && (await status(1)).bus_connected);
        i += 1
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      for (const { app, database } of apps) {
        await app.close();
        await database.close();
      }
      await stopRedis();
      await testDb?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const connect = async (i: number, token: string, room: string) => {
      const client = await WsClient.connect(apps[i]!.url, token, room);
      clients.push(client);
      return client;
    };
    const changeSettings = (i: number, room: string, token: string, max: number) =>
      apps[i]!.app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/${room}/settings`,
        headers: bearer(token),
        payload: { max_times_entered: max },
      });

    it('shares events, online counts, revocations, and survives a Redis restart', async () => {
      const A = apps[0]!.app;
      await createRoom(A, 'shared-room', { max_times_entered: 100 });
      const sa = await enter(A, 'shared-room', { display_name: 'Ann' });
      const sb = await enter(apps[1]!.app, 'shared-room', { display_name: 'Ben' });
      const [ann, ben] = [sa, sb].map((s) => ({
        author_id: (s as unknown as { author_id: string }).author_id,
        display_name: (s as unknown as { display_name: string }).display_name,
      }));

      const onA = await connect(0, sa.token, 'shared-room');
      expect(onA.ack.payload.online).toBe(1);
      const onB = await connect(1, sb.token, 'shared-room');
      expect(onB.ack.payload.online).toBe(2);
      expect((await onA.next('user_joined')).payload).toEqual({ online: 1, members: [ann] });
      // Presence names the people on both instances (display names, API.md §2).
      expect((await onA.next('user_joined')).payload).toEqual({ online: 2, members: [ann, ben] });
      expect(onB.ack.payload.members).toEqual([ann, ben]);
      // A rename on instance B reaches the socket on A, and later presence frames list it.
      const renamed = await apps[1]!.app.inject({
        method: 'PATCH',
        url: '/api/v1/rooms/shared-room/session',
        headers: bearer(sb.token),
        payload: { display_name: 'Benedict' },
      });
      expect(renamed.statusCode, renamed.body).toBe(200);
      expect((await onA.next('member_renamed')).payload).toEqual({ ...ben, display_name: 'Benedict' });

      // An event on A reaches the socket on B, in order.
      for (let i = 0; i < 10; i += 1)
        expect((await changeSettings(0, 'shared-room', sa.token, 50 + i)).statusCode).toBe(200);
      for (const client of [onB, onA]) {
        for (let i = 0; i < 10; i += 1) {
          expect((await client.next('room_updated')).payload.room.max_times_entered).toBe(50 + i);
        }
      }

      // A revoke on A closes the socket on B, and A hears that B's socket left.
      const revoke = await A.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/shared-room/tokens/${sb.claims.jti}`,
        headers: bearer(sa.token),
      });
      expect(revoke.json()).toEqual({ revoked: true });
      expect((await onB.next('error')).payload.code).toBe('session_revoked');
      expect((await onB.expectClose()).code).toBe(WS_CLOSE.SESSION_REVOKED);
      expect((await onA.next('user_left')).payload).toMatchObject({ online: 1 });

      const sb2 = await enter(apps[1]!.app, 'shared-room');
      const onB2 = await connect(1, sb2.token, 'shared-room');
      expect(onB2.ack.payload.online).toBe(2);

      // Redis goes away: each instance keeps serving its own sockets and says so in /status.
      await stopRedis();
      await expect.poll(async () => (await status(0)).bus_connected, { timeout: 5_000 }).toBe(false);
      expect((await status(0)).bus).toBe('redis');
      expect((await changeSettings(0, 'shared-room', sa.token, 70)).statusCode).toBe(200);
      expect((await onA.next('room_updated')).payload.room.max_times_entered).toBe(70);

      // Redis is back (empty): delivery across instances resumes and the counts are rebuilt.
      await startRedis();
      await expect
        .poll(async () => (await status(0)).bus_connected && (await status(1)).bus_connected, {
          timeout: 10_000,
        })
        .toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await changeSettings(0, 'shared-room', sa.token, 80)).statusCode).toBe(200);
      // B may first get the update A published during the outage (ioredis queued it and sent
      // it on reconnect); either way the updates arrive in order and 80 comes through.
      const seenOnB: number[] = [];
      while (seenOnB.at(-1) !== 80) {
        seenOnB.push((await onB2.next('room_updated', 5_000)).payload.room.max_times_entered);
      }
      expect([[80], [70, 80]]).toContainEqual(seenOnB);
      const sc = await enter(A, 'shared-room');
      const onB3 = await connect(1, sc.token, 'shared-room');
      expect(onB3.ack.payload.online).toBe(3);
    });
  },
);
