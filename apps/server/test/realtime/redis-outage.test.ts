import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { buildApp } from '../../src/app.js';
import { createContentsApp, type ContentsTestApp } from '../support/contents.js';
import { bearer, createRoom, enter } from '../support/rooms.js';
import { describeWithService } from '../support/services.js';
import { PrivateRedis, redisServerAvailability } from './redis-server.js';
import { listen, WsClient } from './ws-client.js';

interface LogLine {
  level: number;
  msg: string;
}

const WARN = 40;
const INFO = 30;

/**
 * API.md §4 / WEBSOCKET.md: when Redis drops, the instance says so (a warning in its log, and
 * `/status` shows `bus_connected: false`), keeps serving its own sockets, and says so again
 * when Redis is back. Once per outage, not once per reconnection attempt.
 */
describeWithService(
  'redis-server',
  redisServerAvailability(),
  'Redis outage is logged and shown in /status',
  () => {
    let redis: PrivateRedis;
    let base: ContentsTestApp;
    let app: FastifyInstance;
    const logs: LogLine[] = [];
    const clients: WsClient[] = [];

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      // The contents helper gives a database and a storage; the app under test is built here with
      // Redis and a logger whose lines the test reads.
      base = await createContentsApp({
        configure: (config) => (config.realtime.ping_interval_seconds = 0.5),
      });
      const config = { ...base.config, realtime: { ...base.config.realtime, redis_url: redis.url } };
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n'))
            if (line) logs.push(JSON.parse(line) as LogLine);
          done();
        },
      });
      app = await buildApp({
        config,
        database: base.database,
        storage: base.storage,
        realtimePrefix: `elz-outage-${randomBytes(6).toString('hex')}`,
        logger: pino({ level: 'info' }, sink),
      });
      await app.ready();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await app?.close();
      await base?.close();
      await redis?.stop();
    });

    const busStatus = async () =>
      (await app.inject({ url: '/api/v1/status' })).json<{
        realtime: { bus: string; bus_connected: boolean };
      }>().realtime;
    const redisLogs = () =>
      logs
        .filter((l) => /^Redis connection (lost|restored)/.test(l.msg))
        .map((l) => ({ level: l.level, msg: l.msg }));

    it('warns when Redis drops, keeps local delivery, and logs when it is back', async () => {
      await expect.poll(async () => (await busStatus()).bus_connected, { timeout: 10_000 }).toBe(true);
      expect(await busStatus()).toMatchObject({ bus: 'redis', bus_connected: true });
      expect(redisLogs()).toEqual([]);

      const wsUrl = await listen(app);
      await createRoom(app, 'outage-room', { max_times_entered: 50 });
      const sessions = [await enter(app, 'outage-room'), await enter(app, 'outage-room')];
      for (const s of sessions) clients.push(await WsClient.connect(wsUrl, s.token, 'outage-room'));

      for (let outage = 1; outage <= 2; outage += 1) {
        await redis.stop();
        await expect.poll(async () => (await busStatus()).bus_connected, { timeout: 5_000 }).toBe(false);
        expect((await busStatus()).bus).toBe('redis');
        await expect.poll(() => redisLogs().length, { timeout: 5_000 }).toBe(2 * outage - 1);
        expect(redisLogs().at(-1)).toEqual({
          level: WARN,
          msg: expect.stringMatching(/^Redis connection lost/),
        });

        // This instance's sockets still hear this instance's events.
        const res = await app.inject({
          method: 'PUT',
          url: '/api/v1/rooms/outage-room/settings',
          headers: bearer(sessions[0]!.token),
          payload: { max_times_entered: 60 + outage },
        });
        expect(res.statusCode, res.body).toBe(200);
        for (const client of clients) {
          expect((await client.next('room_updated')).payload.room.max_times_entered).toBe(60 + outage);
        }
        // ioredis keeps retrying meanwhile; the outage is reported once, not per attempt.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(redisLogs()).toHaveLength(2 * outage - 1);

        await redis.start();
        await expect.poll(async () => (await busStatus()).bus_connected, { timeout: 10_000 }).toBe(true);
        await expect.poll(() => redisLogs().length, { timeout: 5_000 }).toBe(2 * outage);
        expect(redisLogs().at(-1)).toEqual({
          level: INFO,
          msg: expect.stringMatching(/^Redis connection restored/),
        });
      }
    });
  },
);
