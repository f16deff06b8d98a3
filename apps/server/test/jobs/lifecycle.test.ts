import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { WS_CLOSE } from '@elizabeth/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';

import type { LifecycleDeps } from '../../src/jobs/lifecycle.js';
import { ManualClock } from '../../src/lib/clock.js';
import { listen, WsClient } from '../realtime/ws-client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter } from '../support/rooms.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describeEachDatabase('lifecycle pass', (engine) => {
  let t: TestApp;
  let clock: ManualClock;
  const reservationCalls: Array<[number, number]> = [];

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 5, 1));
    reservationCalls.length = 0;
    t = await createTestApp({
      engine,
      clock,
      configure: (config) => {
        config.jwt.ttl_seconds = 600;
        config.jwt.refresh_ttl_seconds = 3600;
        config.room.share_disabled_lock_duration = 1800;
        config.gc.batch_limit = 10;
      },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  /** A stored file of the room: bytes on disk, a contents row and the bytes counted. */
  async function storeFile(roomId: number, key: string, bytes: string): Promise<string> {
    const path = join(t.config.storage.root, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    await t.database.db
      .insertInto('contents')
      .values({
        room_id: roomId,
        content_type: 2,
        text: null,
        url: null,
        file_name: 'a.txt',
        storage_key: key,
        size: bytes.length,
        mime_type: 'text/plain',
        created_at: clock.now(),
        updated_at: clock.now(),
      })
      .execute();
    return path;
  }

  it('purges expired rooms with their stored bytes and closes their sockets with room_expired', async () => {
    const url = await listen(t.app);
    const expiring = await createRoom(t.app, 'short-lived', { age_seconds: 60 });
    const lasting = await createRoom(t.app, 'long-lived', { age_seconds: 86_400 });
    const { token } = await enter(t.app, 'short-lived');
    const socket = await WsClient.connect(url, token, 'short-lived');
    const expiredFile = await storeFile(expiring.id, `${expiring.id}/a.txt`, 'bytes');
    const keptFile = await storeFile(lasting.id, `${lasting.id}/b.txt`, 'kept');

    expect((await t.app.lifecycle.runPass()).expired_rooms).toBe(0);
    clock.advance(61_000);
    const result = await t.app.lifecycle.runPass();
    expect(result).toMatchObject({ skipped: false, expired_rooms: 1, blobs_deleted: 1 });
    expect((await socket.next('error')).payload.code).toBe('room_expired');
    expect((await socket.expectClose()).code).toBe(WS_CLOSE.ROOM_EXPIRED);
    expect(existsSync(expiredFile)).toBe(false);
    expect(existsSync(keptFile)).toBe(true);
    const rooms = await t.database.db.selectFrom('rooms').select('name').execute();
    expect(rooms.map((r) => r.name)).toEqual(['long-lived']);
    expect(await t.database.db.selectFrom('blob_deletions').selectAll().execute()).toEqual([]);
    expect(await t.database.db.selectFrom('contents').select('storage_key').execute()).toEqual([
      { storage_key: `${lasting.id}/b.txt` },
    ]);
  });

  it('handles at most batch_limit rooms per pass; the next pass finishes the job', async () => {
    for (let i = 0; i < 12; i += 1) await createRoom(t.app, `batch-${i}`, { age_seconds: 60 });
    clock.advance(2 * MINUTE);
    expect((await t.app.lifecycle.runPass()).expired_rooms).toBe(10);
    expect((await t.app.lifecycle.runPass()).expired_rooms).toBe(2);
    expect((await t.app.lifecycle.runPass()).expired_rooms).toBe(0);
  });

  it('deletes the bytes queued by an earlier pass that stopped half-way', async () => {
    const path = join(t.config.storage.root, 'orphan/x.bin');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'x');
    // What a crash between the row deletion and the byte deletion leaves behind.
    await t.database.db
      .insertInto('blob_deletions')
      .values({ storage_key: 'orphan/x.bin', created_at: clock.now() })
      .execute();
    expect((await t.app.lifecycle.runPass()).blobs_deleted).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('deletes expired sessions, refresh tokens and blacklist rows, keeping sessions a live refresh token needs', async () => {
    await createRoom(t.app, 'tokens-room', { age_seconds: 86_400 });
    const plain = await enter(t.app, 'tokens-room');
    const withRefresh = await enter(t.app, 'tokens-room', { with_refresh_token: true });
    const rotated = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: withRefresh.refresh_token },
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const count = async (table: 'sessions' | 'refresh_tokens' | 'token_blacklist') =>
      Number(
        (
          await t.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect([await count('sessions'), await count('refresh_tokens'), await count('token_blacklist')]).toEqual([
      3, 2, 1,
    ]);

    clock.advance(11 * MINUTE);
    const afterAccess = await t.app.lifecycle.runPass();
    // The plain session and the refreshed-away one go; the one the new refresh token names stays.
    expect(afterAccess).toMatchObject({
      expired_sessions: 2,
      expired_refresh_tokens: 0,
      expired_blacklist: 0,
    });
    expect(await count('sessions')).toBe(1);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: rotated.json().refresh_token },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().access_token).toBeTruthy();
    const stale = await t.app.inject({
      url: '/api/v1/rooms/tokens-room/tokens',
      headers: bearer(plain.token),
    });
    expect(stale.statusCode).toBe(401);

    clock.advance(2 * HOUR);
    const later = await t.app.lifecycle.runPass();
    expect(later.expired_refresh_tokens).toBe(3);
    expect(later.expired_blacklist).toBe(2);
    // The one kept above and the one the second refresh made.
    expect(later.expired_sessions).toBe(2);
    expect([await count('sessions'), await count('refresh_tokens'), await count('token_blacklist')]).toEqual([
      0, 0, 0,
    ]);
  });

  it('releases a private room’s reserved name once the lock ran out', async () => {
    await createRoom(t.app, 'secret-room', { age_seconds: 86_400 });
    const { token } = await enter(t.app, 'secret-room');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/secret-room/permissions',
      headers: bearer(token),
      payload: { edit: true, share: false, delete: true },
    });
    const slug = res.json<{ slug: string }>().slug;
    expect(slug).toMatch(/^secret-room_/);

    clock.advance(29 * MINUTE);
    expect((await t.app.lifecycle.runPass()).released_names).toBe(0);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/rooms/secret-room', payload: {} })).statusCode,
    ).toBe(409);

    clock.advance(2 * MINUTE);
    expect((await t.app.lifecycle.runPass()).released_names).toBe(1);
    const room = await t.database.db
      .selectFrom('rooms')
      .selectAll()
      .where('slug', '=', slug)
      .executeTakeFirstOrThrow();
    expect(room).toMatchObject({ name: slug, share_disabled_at: null });
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/rooms/secret-room', payload: {} })).statusCode,
    ).toBe(201);
  });

  /** A lifecycle of its own on the test's database and clock, with the steps given. */
  async function lifecycleWith(
    steps: Pick<LifecycleDeps, 'releaseExpiredReservations' | 'sweepOrphans' | 'logger'>,
  ) {
    const { Lifecycle } = await import('../../src/jobs/lifecycle.js');
    const { BlobReaper } = await import('../../src/storage/blob-reaper.js');
    const { MemoryEventBus } = await import('../../src/realtime/memory-event-bus.js');
    const { LocalStorage } = await import('../../src/storage/index.js');
    return new Lifecycle({
      database: t.database,
      config: t.config,
      clock,
      events: new MemoryEventBus(),
      blobs: new BlobReaper({ db: t.database.db, storage: new LocalStorage(t.config.storage.root) }),
      ...steps,
    });
  }

  it('calls the upload-reservation step with the time and the batch limit', async () => {
    const lifecycle = await lifecycleWith({
      releaseExpiredReservations: (now, limit) => {
        reservationCalls.push([now, limit]);
        return Promise.resolve(3);
      },
    });
    expect((await lifecycle.runPass()).released_reservations).toBe(3);
    expect(reservationCalls).toEqual([[clock.now(), 10]]);
  });

  it('finishes a pass whose orphan sweep fails, and sweeps again in the next pass', async () => {
    const sweeps: number[] = [];
    const warnings: string[] = [];
    const lifecycle = await lifecycleWith({
      logger: { warn: (_obj, msg) => warnings.push(msg) },
      sweepOrphans: (olderThan) => {
        sweeps.push(olderThan);
        return sweeps.length === 1 ? Promise.reject(new Error('bucket unreachable')) : Promise.resolve(2);
      },
    });
    const ttl = t.config.upload.reservation_ttl_seconds * 1000;
    const first = await lifecycle.runPass();
    expect(first).toMatchObject({ skipped: false, orphans_deleted: 0 });
    expect(warnings).toEqual(['orphan sweep failed; will retry in the next pass']);
    clock.advance(MINUTE);
    expect((await lifecycle.runPass()).orphans_deleted).toBe(2);
    // Done: not again before the interval.
    clock.advance(MINUTE);
    expect((await lifecycle.runPass()).orphans_deleted).toBe(0);
    expect(sweeps).toEqual([clock.now() - 2 * MINUTE - ttl, clock.now() - MINUTE - ttl]);
  });
});
