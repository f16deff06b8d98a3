import { randomBytes } from 'node:crypto';

import { afterEach, expect, it } from 'vitest';

import { RedisLink } from '../../src/lib/redis-link.js';
import { RedisLocker } from '../../src/modules/uploads/redis-locker.js';
import { describeWithService, type ServiceAvailability } from '../support/services.js';

const REDIS_URL = process.env.ELIZABETH_TEST_REDIS_URL;
const redis: ServiceAvailability = REDIS_URL
  ? { available: true }
  : { available: false, reason: 'ELIZABETH_TEST_REDIS_URL is not set' };

describeWithService('Redis', redis, 'RedisLocker: tus upload locks across instances', () => {
  const links: RedisLink[] = [];
  const link = () => {
    const created = new RedisLink(REDIS_URL!);
    links.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
  });

  /** Two "instances": each its own connections and locker, one namespace. */
  async function pair(options: { leaseMs?: number; acquireTimeoutMs?: number } = {}) {
    const prefix = `elz-lock-${randomBytes(6).toString('hex')}`;
    const a = link();
    const b = link();
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    return {
      a,
      b,
      lockA: new RedisLocker(a, { prefix, ...options }),
      lockB: new RedisLocker(b, { prefix, ...options }),
    };
  }

  it('gives an upload to one holder at a time; a waiter elsewhere asks the holder to let go', async () => {
    const { lockA, lockB } = await pair();
    const first = lockA.newLock('tus/abc');
    let released = 0;
    await first.lock(new AbortController().signal, async () => {
      released += 1;
      // The holder (a PATCH) stops writing, then unlocks.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await first.unlock();
    });
    expect(lockA.heldIds()).toEqual(['tus/abc']);

    const second = lockB.newLock('tus/abc');
    const started = Date.now();
    await second.lock(new AbortController().signal, () => undefined);
    expect(released).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lockA.heldIds()).toEqual([]);
    expect(lockB.heldIds()).toEqual(['tus/abc']);

    // Other uploads are independent.
    const other = lockA.newLock('tus/def');
    await other.lock(new AbortController().signal, () => undefined);
    await other.unlock();
    await second.unlock();
  });

  it('frees the lock of a crashed holder when its lease runs out, not before', async () => {
    const { a, lockA, lockB } = await pair({ leaseMs: 600 });
    await lockA.newLock('tus/crash').lock(new AbortController().signal, () => undefined);
    // The holder's process dies: no unlock, no renewal, no answer to release requests.
    a.commands.disconnect();
    const started = Date.now();
    const lock = lockB.newLock('tus/crash');
    await lock.lock(new AbortController().signal, () => undefined);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(3_000);
    await lock.unlock();
  });

  it('stops its own request when the lease can no longer be renewed', async () => {
    const { a, lockA } = await pair({ leaseMs: 600 });
    let asked = 0;
    const started = Date.now();
    await lockA.newLock('tus/orphan').lock(new AbortController().signal, () => {
      asked += 1;
    });
    a.commands.disconnect();
    await expect.poll(() => asked, { timeout: 3_000 }).toBe(1);
    // Before the key can expire in Redis (600 ms), never later.
    expect(Date.now() - started).toBeLessThan(600);
  });

  it('renews the lease while held, and times out a waiter whose holder never lets go', async () => {
    const { lockA, lockB } = await pair({ leaseMs: 300, acquireTimeoutMs: 1_000 });
    const held = lockA.newLock('tus/busy');
    await held.lock(new AbortController().signal, () => undefined); // ignores release requests
    await expect(
      lockB.newLock('tus/busy').lock(new AbortController().signal, () => undefined),
    ).rejects.toMatchObject({
      status_code: 500,
    });
    await held.unlock();
  });

  it('stops waiting when the request is aborted, and answers 503 while Redis is unreachable', async () => {
    const { lockA, lockB } = await pair();
    const held = lockA.newLock('tus/x');
    await held.lock(new AbortController().signal, () => undefined);
    const abort = new AbortController();
    const waiting = lockB.newLock('tus/x').lock(abort.signal, () => undefined);
    setTimeout(() => abort.abort(), 100);
    await expect(waiting).rejects.toMatchObject({ status_code: 500 });
    await held.unlock();

    const down = new RedisLink('redis://127.0.0.1:1');
    links.push(down);
    const locker = new RedisLocker(down, { prefix: 'elz-lock-down' });
    await expect(
      locker.newLock('tus/y').lock(new AbortController().signal, () => undefined),
    ).rejects.toMatchObject({
      status_code: 503,
    });
  });
});
