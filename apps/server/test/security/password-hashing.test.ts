/**
 * Issue 16 item 2: unauthenticated requests must not buy Argon2 work for nothing, and the
 * hashing that does run is bounded (a small queue, then 503 with Retry-After).
 */
import { afterEach, expect, it } from 'vitest';

import { PasswordHasher } from '../../src/lib/password.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';

describeEachDatabase('password hashing', (engine) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('POST /rooms/{existing} with a password answers 409 without hashing', async () => {
    const passwords = new PasswordHasher();
    t = await createTestApp({ engine, passwords });
    const create = () =>
      t!.app.inject({ method: 'POST', url: '/api/v1/rooms/taken', payload: { password: 'secret-1' } });
    expect((await create()).statusCode).toBe(201);
    expect(passwords.hashes).toBe(1);
    const again = await Promise.all(Array.from({ length: 16 }, create));
    expect(again.map((r) => r.statusCode)).toEqual(Array(16).fill(409));
    expect(passwords.hashes).toBe(1);
  });

  it('hashes and verifications beyond concurrency + queue are refused with 503 and Retry-After', async () => {
    const passwords = new PasswordHasher({ concurrency: 1, queue: 2 });
    t = await createTestApp({ engine, passwords });
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t!.app.inject({
          method: 'POST',
          url: `/api/v1/rooms/queued-${i}`,
          payload: { password: 'secret-1' },
        }),
      ),
    );
    const ok = created.filter((r) => r.statusCode === 201);
    const refused = created.filter((r) => r.statusCode === 503);
    expect(ok.length + refused.length).toBe(12);
    expect(ok.length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThan(0);
    expect(passwords.hashes).toBe(ok.length);
    for (const res of refused) {
      expect(res.json()).toEqual({
        error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String), status: 503 },
      });
      expect(res.headers['retry-after']).toBe('1');
    }

    // Verifications share the queue; a refused one is not counted as a wrong password.
    const room = ok[0]!.json<{ name: string }>().name;
    const verified = await Promise.all(
      Array.from({ length: 12 }, () =>
        t!.app.inject({
          method: 'POST',
          url: `/api/v1/rooms/${room}/password/verify`,
          payload: { password: 'wrong-one' },
        }),
      ),
    );
    const statuses = verified.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 503 && s !== 401)).toEqual([]);
    const wrong = statuses.filter((s) => s === 401).length;
    // 10 attempts per client: the refused ones were given back.
    for (let i = wrong; i < 10; i += 1) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${room}/password/verify`,
        payload: { password: 'wrong-one' },
      });
      expect(res.statusCode).toBe(401);
    }
  });
});
