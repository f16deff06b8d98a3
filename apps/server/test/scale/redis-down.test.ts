import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../server/ports.js';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * An instance configured for Redis whose Redis is unreachable (here: from the start) keeps
 * serving: the shared rate limit is not enforced (fail-open, documented in docs/SCALING.md),
 * wrong passwords are still limited by the instance's own counts, and a tus request answers
 * 503 at once (the client retries) instead of hanging.
 */
describe('Redis configured but unreachable', () => {
  let t: TestApp;

  beforeAll(async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    t = await createTestApp({
      configure: (config) => {
        config.realtime.redis_url = deadRedis;
        config.middleware.rate_limit.enabled = true;
        config.middleware.rate_limit.burst_size = 3;
        config.middleware.rate_limit.per_second = 1;
      },
    });
  });
  afterAll(() => t?.close());

  it('serves requests without the shared limit, limits wrong passwords locally, refuses tus uploads with 503', async () => {
    for (let n = 0; n < 6; n += 1) {
      expect((await t.app.inject({ url: '/api/v1/status' })).statusCode).toBe(200);
    }

    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/redis-down',
      payload: { password: 'right-one' },
    });
    expect(created.statusCode).toBe(201);
    const guess = (password: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/rooms/redis-down/tokens', payload: { password } });
    for (let n = 0; n < t.config.auth.password_attempts.max; n += 1) {
      expect((await guess(`wrong-${n}`)).statusCode).toBe(401);
    }
    const limited = await guess('right-one');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');

    // Another client (this one is out of guesses).
    const other = { remoteAddress: '10.1.2.3' };
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/rooms/redis-open', payload: {}, ...other }))
        .statusCode,
    ).toBe(201);
    const { token } = (
      await t.app.inject({ method: 'POST', url: '/api/v1/rooms/redis-open/tokens', payload: {}, ...other })
    ).json<{ token: string }>();
    const upload = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/redis-open/uploads',
      ...other,
      headers: {
        authorization: `Bearer ${token}`,
        'tus-resumable': '1.0.0',
        'upload-length': '10',
        'upload-metadata': `filename ${Buffer.from('a.bin').toString('base64')}`,
      },
    });
    // tus locks the upload it creates: no lock service, no upload (tus clients retry); the
    // quota the request reserved is given back.
    expect(upload.statusCode).toBe(503);
    expect(upload.json().error.code).toBe('SERVICE_UNAVAILABLE');
    const room = await t.database.db
      .selectFrom('rooms')
      .select('current_size')
      .where('name', '=', 'redis-open')
      .executeTakeFirstOrThrow();
    expect(room.current_size).toBe(0);
  });
});
