/**
 * Issue 16 item 1: the wrong-password limit must hold against a burst of concurrent guesses
 * (the attempt is charged before Argon2 runs), on one instance and on several sharing Redis,
 * and one client's flood must not lock a legitimate user on another address out of the room.
 */
import { Agent, request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { clusterAvailability, type Cluster, startCluster } from '../scale/cluster.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { describeWithService } from '../support/services.js';

const MAX = 10; // auth.password_attempts.max (default)

/** POSTs every body at once, each on its own keep-alive connection, from client `ip`. */
async function burst(bases: string[], path: string, bodies: object[], ip: string): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: bodies.length });
  try {
    return await Promise.all(
      bodies.map(
        (body, i) =>
          new Promise<number>((resolve, reject) => {
            const payload = JSON.stringify(body);
            const req = request(
              `${bases[i % bases.length]}${path}`,
              {
                method: 'POST',
                agent,
                headers: {
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(payload),
                  'x-forwarded-for': ip,
                },
              },
              (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              },
            );
            req.on('error', reject);
            req.end(payload);
          }),
      ),
    );
  } finally {
    agent.destroy();
  }
}

const guesses = (count: number, right: number | undefined) =>
  Array.from({ length: count }, (_, i) => ({ password: i === right ? 'right-one' : `wrong-${i}` }));

/** What a burst shows: every 401 and 200 is one Argon2 verification; the rest must be 429. */
function expectBounded(statuses: number[], rightIndex: number) {
  const verified = statuses.filter((s) => s === 401 || s === 200).length;
  expect(verified).toBeLessThanOrEqual(MAX);
  expect(statuses.filter((s) => s !== 401 && s !== 200 && s !== 429)).toEqual([]);
  expect(statuses[rightIndex]).toBe(429);
}

async function create(base: string, name: string) {
  const res = await fetch(`${base}/api/v1/rooms/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' },
    body: JSON.stringify({ password: 'right-one' }),
  });
  expect(res.status).toBe(201);
}

describeEachDatabase('password attempts under a concurrent burst (one instance)', (engine) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ engine, configure: (c) => (c.middleware.trusted_proxies = ['loopback']) });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => t.close());

  it('150 concurrent guesses from one client run at most `max` verifications; the right one (#111) is refused', async () => {
    await create(base, 'burst-room');
    const statuses = await burst([base], '/api/v1/rooms/burst-room/tokens', guesses(150, 111), '10.0.0.1');
    expectBounded(statuses, 111);
    // Another client is not locked out of the room by that flood.
    const [other] = await burst([base], '/api/v1/rooms/burst-room/tokens', guesses(1, 0), '10.0.0.2');
    expect(other).toBe(200);
  }, 60_000);

  it('200 wrong guesses from one client (burst, then one by one) leave the room open to another client', async () => {
    await create(base, 'flood-room');
    await burst([base], '/api/v1/rooms/flood-room/password/verify', guesses(100, undefined), '10.0.1.1');
    for (let i = 0; i < 100; i += 1) {
      const [status] = await burst(
        [base],
        '/api/v1/rooms/flood-room/tokens',
        guesses(1, undefined),
        '10.0.1.1',
      );
      expect(status).toBe(429);
    }
    const [other] = await burst([base], '/api/v1/rooms/flood-room/tokens', guesses(1, 0), '10.0.1.2');
    expect(other).toBe(200);
  }, 60_000);
});

describe('password attempts: exponential back-off per client', () => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 11, 4, 12, 0, 0));
  beforeAll(async () => {
    t = await createTestApp({ clock, env: { AUTH_PASSWORD_ATTEMPTS_MAX: '3' } });
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/backoff',
          payload: { password: 'right-one' },
        })
      ).statusCode,
    ).toBe(201);
  });
  afterAll(() => t.close());

  const guess = (password: string, remoteAddress = '10.0.2.1') =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/backoff/password/verify',
      payload: { password },
      remoteAddress,
    });

  it('each lock-out in a row lasts twice the one before; a right password is refunded', async () => {
    // A right password does not use the allowance.
    for (let i = 0; i < 5; i += 1) expect((await guess('right-one')).statusCode).toBe(200);
    for (const lockout of [60, 120, 240]) {
      for (let i = 0; i < 3; i += 1) expect((await guess(`wrong-${i}`)).statusCode).toBe(401);
      const limited = await guess('right-one');
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBe(lockout);
      clock.advance((lockout - 1) * 1000);
      expect((await guess('right-one')).statusCode).toBe(429);
      clock.advance(1000);
    }
    expect((await guess('right-one')).statusCode).toBe(200);
    // Another client was never affected.
    expect((await guess('right-one', '10.0.2.2')).statusCode).toBe(200);
  });

  it('lock-outs are forgotten after backoff_max_seconds without a new one', async () => {
    clock.advance(3600 * 1000);
    for (let i = 0; i < 3; i += 1) expect((await guess(`wrong-${i}`)).statusCode).toBe(401);
    expect(Number((await guess('right-one')).headers['retry-after'])).toBe(60);
  });
});

describeWithService(
  'PostgreSQL + Redis',
  clusterAvailability(),
  'password attempts across two instances',
  () => {
    let cluster: Cluster;
    let bases: string[];
    beforeAll(async () => {
      cluster = await startCluster({ count: 2, storage: 'local' });
      bases = cluster.instances.map((i) => i.base);
    }, 60_000);
    afterAll(() => cluster?.close());

    it('150 concurrent guesses spread over both instances run at most `max` verifications in all', async () => {
      await create(bases[0]!, 'burst-shared');
      const statuses = await burst(bases, '/api/v1/rooms/burst-shared/tokens', guesses(150, 111), '10.0.3.1');
      expectBounded(statuses, 111);
      // The lock-out holds on both instances; another client gets in on either.
      for (const b of bases) {
        expect((await burst([b], '/api/v1/rooms/burst-shared/tokens', guesses(1, 0), '10.0.3.1'))[0]).toBe(
          429,
        );
        expect((await burst([b], '/api/v1/rooms/burst-shared/tokens', guesses(1, 0), '10.0.3.2'))[0]).toBe(
          200,
        );
      }
    }, 60_000);
  },
);
