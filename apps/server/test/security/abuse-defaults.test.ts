/**
 * Issue 16 item 7: rate limiting was off by default and room creation free (3 000 rooms in
 * 2.1 s from one address). Under the shipped defaults: the general limit is on, one client
 * can create only so many rooms (another client still can), the optional global storage cap
 * refuses new bytes with 507, and the web app's own request pattern never meets a 429.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { multipart } from '../support/contents.js';
import { bearer, expectError } from '../support/rooms.js';

/** The shipped defaults: none of the test helpers' relaxations. */
const DEFAULTS = {
  MIDDLEWARE_RATE_LIMIT_ENABLED: 'true',
  ROOM_CREATION_LIMIT_MAX: String(DEFAULT_CONFIG.room.creation_limit.max),
};

describe('abuse limits under the shipped defaults', () => {
  it('the general rate limit and the room creation limit are on by default', () => {
    expect(DEFAULT_CONFIG.middleware.rate_limit.enabled).toBe(true);
    expect(DEFAULT_CONFIG.room.creation_limit.max).toBeGreaterThan(0);
  });

  describe('room creation per client', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: DEFAULTS });
    });
    afterAll(() => t.close());

    it('one address is refused after its allowance; another address still creates rooms', async () => {
      const max = t.config.room.creation_limit.max;
      for (let i = 0; i < max; i += 1) {
        const method = i % 2 === 0 ? 'POST' : 'GET';
        const res = await t.app.inject({
          method,
          url: `/api/v1/rooms/flood-${i}`,
          remoteAddress: '10.0.0.1',
          payload: method === 'POST' ? {} : undefined,
        });
        expect(res.statusCode, res.body).toBe(method === 'POST' ? 201 : 200);
      }
      const post = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/flood-x',
        remoteAddress: '10.0.0.1',
        payload: {},
      });
      expectError(post, 429, 'RATE_LIMITED');
      expect(post.headers['retry-after']).toBeDefined();
      const zeroStep = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/flood-y',
        remoteAddress: '10.0.0.1',
      });
      expectError(zeroStep, 429, 'RATE_LIMITED');
      // Existing rooms stay reachable for that client.
      const existing = await t.app.inject({
        method: 'GET',
        url: '/api/v1/rooms/flood-0',
        remoteAddress: '10.0.0.1',
      });
      expect(existing.statusCode).toBe(200);
      const other = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/other-client',
        remoteAddress: '10.0.0.2',
        payload: {},
      });
      expect(other.statusCode, other.body).toBe(201);
    });
  });

  describe('general rate limit', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: DEFAULTS });
    });
    afterAll(() => t.close());

    it('a flood of API requests from one address gets 429, another address is served', async () => {
      const limit = t.config.middleware.rate_limit.burst_size;
      let limited = 0;
      for (let i = 0; i < limit + 20; i += 1) {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/config', remoteAddress: '10.0.1.1' });
        if (res.statusCode === 429) limited += 1;
      }
      expect(limited).toBeGreaterThan(0);
      const other = await t.app.inject({ method: 'GET', url: '/api/v1/config', remoteAddress: '10.0.1.2' });
      expect(other.statusCode).toBe(200);
    });
  });

  describe('global storage cap', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { ...DEFAULTS, STORAGE_MAX_TOTAL_SIZE: '1000' } });
    });
    afterAll(() => t.close());

    it('new bytes are refused with 507 once all rooms together reach the cap', async () => {
      const tokens: string[] = [];
      for (const name of ['cap-a', 'cap-b']) {
        await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${name}`, payload: {} });
        const entered = await t.app.inject({
          method: 'POST',
          url: `/api/v1/rooms/${name}/tokens`,
          payload: {},
        });
        tokens.push(entered.json<{ token: string }>().token);
      }
      const upload = (token: string, room: string, size: number) => {
        const body = multipart([{ name: 'f.bin', content: Buffer.alloc(size, 1) }]);
        return t.app.inject({
          method: 'POST',
          url: `/api/v1/rooms/${room}/contents`,
          headers: { ...bearer(token), ...body.headers },
          payload: body.payload,
        });
      };
      expect((await upload(tokens[0]!, 'cap-a', 600)).statusCode).toBe(201);
      expectError(await upload(tokens[1]!, 'cap-b', 600), 507, 'INSUFFICIENT_STORAGE');
      const prepared = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/cap-b/contents/prepare',
        headers: bearer(tokens[1]!),
        payload: { files: [{ name: 'p', size: 500 }] },
      });
      expectError(prepared, 507, 'INSUFFICIENT_STORAGE');
      expect((await upload(tokens[1]!, 'cap-b', 50)).statusCode).toBe(201);
    });
  });

  describe("the web app's own request pattern", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: DEFAULTS });
    });
    afterAll(() => t.close());

    it('home, create, open, messages, uploads and previews of a busy session: no 429', async () => {
      const statuses: number[] = [];
      const go = async (req: InjectOptions) => {
        const res = await t.app.inject(req);
        statuses.push(res.statusCode);
        return res;
      };
      // Home: config and status; then a few rooms created and opened, as one person would.
      for (let room = 0; room < 3; room += 1) {
        const name = `web-pattern-${room}`;
        await go({ method: 'GET', url: '/api/v1/config' });
        await go({ method: 'POST', url: `/api/v1/rooms/${name}`, payload: {} });
        await go({ method: 'GET', url: `/api/v1/rooms/${name}` });
        const entered = await go({
          method: 'POST',
          url: `/api/v1/rooms/${name}/tokens`,
          payload: { with_refresh_token: true },
        });
        const auth = bearer(entered.json<{ token: string }>().token);
        await go({ method: 'GET', url: `/api/v1/rooms/${name}/contents`, headers: auth });
        await go({ method: 'GET', url: `/api/v1/rooms/${name}/messages`, headers: auth });
        // Chatting: 30 messages, each followed by the list refresh the app does.
        for (let m = 0; m < 30; m += 1) {
          await go({
            method: 'POST',
            url: `/api/v1/rooms/${name}/messages`,
            headers: auth,
            payload: { text: `m${m}` },
          });
        }
        // Dropping 20 files (two-step upload: prepare, then the files), then every preview.
        const prepared = await go({
          method: 'POST',
          url: `/api/v1/rooms/${name}/contents/prepare`,
          headers: auth,
          payload: { files: Array.from({ length: 20 }, (_, i) => ({ name: `f${i}.png`, size: 10 })) },
        });
        const id = prepared.json<{ reservation_id: number }>().reservation_id;
        const body = multipart(
          Array.from({ length: 20 }, (_, i) => ({
            name: `f${i}.png`,
            content: Buffer.alloc(10, i),
            type: 'image/png',
          })),
        );
        const uploaded = await go({
          method: 'POST',
          url: `/api/v1/rooms/${name}/contents?reservation_id=${id}`,
          headers: { ...auth, ...body.headers },
          payload: body.payload,
        });
        for (const file of uploaded.json<{ uploaded: Array<{ id: number }> }>().uploaded) {
          await go({ method: 'GET', url: `/api/v1/contents/${file.id}`, headers: auth });
        }
        await go({ method: 'GET', url: `/api/v1/rooms/${name}/contents`, headers: auth });
      }
      expect(statuses.filter((s) => s === 429)).toEqual([]);
      expect(statuses.every((s) => s < 400)).toBe(true);
    });
  });
});
