import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  CONTENT_TYPE,
  createDatabase,
  type Database,
  type DatabaseMigration,
  isCheckViolation,
  isForeignKeyViolation,
  isUniqueViolation,
  listMigrations,
  MIGRATIONS,
  migrateToLatest,
  type NewRoom,
  ROOM_STATUS,
} from '../../src/db/index.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/db.js';

const GiB = 1024 ** 3;
/** 2100-01-01: far beyond 2^32 milliseconds and beyond 2^31 seconds. */
const LATER = Date.UTC(2100, 0, 1);
const NOW = Date.UTC(2026, 10, 28, 10, 0, 0, 123);

const TABLES = [
  'blob_deletions',
  'contents',
  'refresh_tokens',
  'room_tombstones',
  'rooms',
  'sessions',
  'share_link_download_leases',
  'share_links',
  'token_blacklist',
  'upload_reservations',
];

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

function roomValues(overrides: Partial<NewRoom> = {}): NewRoom {
  const name = unique('room');
  return {
    name,
    slug: name,
    password_hash: null,
    permission: 15,
    max_size: 10 * GiB,
    max_times_entered: 100,
    expire_at: LATER,
    share_disabled_at: null,
    created_at: NOW,
    updated_at: NOW,
    ...overrides,
  };
}

describeEachDatabase('database layer', (engine) => {
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(engine);
    database = await createDatabase(testDb.config);
    await migrateToLatest(database, { backup: false });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.cleanup();
  });

  const insertRoom = async (overrides: Partial<NewRoom> = {}) =>
    (
      await database.db
        .insertInto('rooms')
        .values(roomValues(overrides))
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;

  it('reports its dialect and answers ping', async () => {
    expect(database.dialect).toBe(engine);
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it('migrates an empty database, then does nothing on a second run', async () => {
    const fresh = await createTestDatabase(engine);
    const db = await createDatabase(fresh.config);
    try {
      expect(await listMigrations(db)).toEqual(MIGRATIONS.map((m) => ({ name: m.name, applied: false })));
      expect(await db.db.introspection.getTables()).toEqual([]);

      const first = await migrateToLatest(db);
      expect(first).toEqual({ applied: MIGRATIONS.map((m) => m.name) });
      const tables = (await db.db.introspection.getTables()).map((t) => t.name).sort();
      expect(tables).toEqual(TABLES);

      expect(await migrateToLatest(db)).toEqual({ applied: [] });
      const status = await listMigrations(db);
      expect(status.map((m) => [m.name, m.applied])).toEqual(MIGRATIONS.map((m) => [m.name, true]));
      expect(status[0]!.appliedAt).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await db.close();
      await fresh.cleanup();
    }
  });

  it('stops at a failing migration, keeps nothing of it and names it in the error', async () => {
    const fresh = await createTestDatabase(engine);
    const db = await createDatabase(fresh.config);
    const broken: DatabaseMigration = {
      name: '9001_broken',
      async up(kdb) {
        await kdb.schema.createTable('half_done').addColumn('id', 'integer').execute();
        await sql`SELECT no_such_column FROM rooms`.execute(kdb);
      },
    };
    const migrations = [...MIGRATIONS, broken];
    try {
      // SQLite commits each migration on its own; PostgreSQL runs the batch as one transaction.
      const kept =
        engine === 'sqlite' ? /applied before the failure: 0001_initial/ : /no migration was applied/;
      const error = await migrateToLatest(db, { migrations }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^Database migration 9001_broken failed: .*no_such_column/);
      expect((error as Error).message).toMatch(kept);

      const tables = (await db.db.introspection.getTables()).map((t) => t.name);
      expect(tables).not.toContain('half_done');
      expect(tables.includes('rooms')).toBe(engine === 'sqlite');
      expect((await listMigrations(db, { migrations })).map((m) => m.applied)).toEqual([
        ...MIGRATIONS.map(() => engine === 'sqlite'),
        false,
      ]);

      // Once fixed, the same database migrates normally.
      expect(await migrateToLatest(db)).toEqual({
        applied: engine === 'sqlite' ? [] : MIGRATIONS.map((m) => m.name),
      });
    } finally {
      await db.close();
      await fresh.cleanup();
    }
  });

  it('round-trips rooms with 64-bit sizes and millisecond timestamps as numbers', async () => {
    const values = roomValues({
      password_hash: '$argon2id$v=19$m=19456,t=2,p=1$abc$def',
      share_disabled_at: NOW + 1,
    });
    const inserted = await database.db
      .insertInto('rooms')
      .values(values)
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(inserted).toEqual({
      ...values,
      id: expect.any(Number),
      status: ROOM_STATUS.open,
      current_size: 0,
      current_times_entered: 0,
    });

    await database.db
      .updateTable('rooms')
      .set({
        current_size: 7 * GiB + 5,
        current_times_entered: 3,
        status: ROOM_STATUS.closed,
        updated_at: LATER - 1,
      })
      .where('id', '=', inserted.id)
      .execute();
    const row = await database.db
      .selectFrom('rooms')
      .selectAll()
      .where('id', '=', inserted.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      ...inserted,
      current_size: 7 * GiB + 5,
      current_times_entered: 3,
      status: ROOM_STATUS.closed,
      updated_at: LATER - 1,
    });
    for (const key of [
      'id',
      'max_size',
      'current_size',
      'expire_at',
      'share_disabled_at',
      'created_at',
    ] as const) {
      expect(typeof row[key]).toBe('number');
    }

    const deleted = await database.db.deleteFrom('rooms').where('id', '=', inserted.id).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
    expect(
      await database.db.selectFrom('rooms').select('id').where('id', '=', inserted.id).execute(),
    ).toEqual([]);
  });

  it('round-trips sessions, refresh tokens and blacklist entries', async () => {
    const roomId = await insertRoom();
    const session = {
      jti: unique('jti'),
      room_id: roomId,
      permission: 7,
      created_at: NOW,
      expires_at: LATER,
    };
    const s = await database.db
      .insertInto('sessions')
      .values(session)
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(s).toEqual({
      ...session,
      id: expect.any(Number),
      revoked_at: null,
      author_id: null,
      display_name: null,
      share_link_id: null,
    });
    await database.db
      .updateTable('sessions')
      .set({ revoked_at: NOW + 10 })
      .where('id', '=', s.id)
      .execute();
    expect(
      await database.db
        .selectFrom('sessions')
        .select('revoked_at')
        .where('jti', '=', s.jti)
        .executeTakeFirstOrThrow(),
    ).toEqual({ revoked_at: NOW + 10 });

    const refresh = {
      room_id: roomId,
      jti: unique('rjti'),
      session_jti: s.jti,
      token_hash: 'a'.repeat(63) + String(seq % 10),
      created_at: NOW,
      expires_at: LATER,
    };
    const r = await database.db
      .insertInto('refresh_tokens')
      .values(refresh)
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(r).toEqual({ ...refresh, id: expect.any(Number), used_at: null, revoked_at: null });
    await database.db
      .updateTable('refresh_tokens')
      .set({ used_at: NOW + 1, revoked_at: NOW + 2 })
      .where('id', '=', r.id)
      .execute();
    expect(
      await database.db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('id', '=', r.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ ...r, used_at: NOW + 1, revoked_at: NOW + 2 });

    const entry = { jti: refresh.jti, expires_at: LATER, created_at: NOW };
    await database.db.insertInto('token_blacklist').values(entry).execute();
    // Upsert on jti is how a re-blacklisted token extends its entry.
    await database.db
      .insertInto('token_blacklist')
      .values({ ...entry, expires_at: LATER + 1 })
      .onConflict((oc) => oc.column('jti').doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') }))
      .execute();
    expect(
      await database.db.selectFrom('token_blacklist').selectAll().where('jti', '=', entry.jti).execute(),
    ).toEqual([{ ...entry, expires_at: LATER + 1 }]);

    for (const table of ['token_blacklist', 'refresh_tokens', 'sessions'] as const) {
      const res = await database.db
        .deleteFrom(table)
        .where('jti', '=', table === 'sessions' ? s.jti : refresh.jti)
        .executeTakeFirst();
      expect(res.numDeletedRows).toBe(1n);
    }
  });

  it('round-trips contents, upload reservations and blob deletions', async () => {
    const roomId = await insertRoom();
    const file = {
      room_id: roomId,
      content_type: CONTENT_TYPE.file,
      text: null,
      url: null,
      file_name: 'disk image.iso',
      storage_key: `rooms/${roomId}/abc`,
      size: 10 * GiB,
      mime_type: 'application/octet-stream',
      sequence_number: 2 ** 40,
      created_at: NOW,
      updated_at: NOW,
      author_id: 'a1b2c3d4e5f60718',
      author_name: 'Ada',
    };
    const c = await database.db.insertInto('contents').values(file).returningAll().executeTakeFirstOrThrow();
    expect(c).toEqual({ ...file, id: expect.any(Number) });
    const message = await database.db
      .insertInto('contents')
      .values({
        room_id: roomId,
        content_type: CONTENT_TYPE.text,
        text: 'héllo',
        created_at: NOW,
        updated_at: NOW,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(message).toMatchObject({
      size: 0,
      sequence_number: 0,
      url: null,
      storage_key: null,
      author_id: null,
      author_name: null,
    });
    await database.db
      .updateTable('contents')
      .set({ file_name: 'renamed.iso', updated_at: NOW + 5 })
      .where('id', '=', c.id)
      .execute();
    expect(
      await database.db
        .selectFrom('contents')
        .select(['file_name', 'updated_at', 'size'])
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ file_name: 'renamed.iso', updated_at: NOW + 5, size: 10 * GiB });

    const reservation = {
      room_id: roomId,
      session_jti: unique('jti'),
      kind: 'tus' as const,
      manifest: JSON.stringify([{ name: 'big.bin', size: 12 * GiB }]),
      reserved_size: 12 * GiB,
      upload_id: unique('upload'),
      storage_key: `tus/${roomId}/x`,
      created_at: NOW,
      expires_at: NOW + 3_600_000,
    };
    const u = await database.db
      .insertInto('upload_reservations')
      .values(reservation)
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(u).toEqual({
      ...reservation,
      id: expect.any(Number),
      consumed_at: null,
      started_at: null,
      owner: null,
    });
    await database.db
      .updateTable('upload_reservations')
      .set({ consumed_at: NOW + 9 })
      .where('upload_id', '=', reservation.upload_id)
      .execute();
    expect(
      await database.db
        .selectFrom('upload_reservations')
        .select('consumed_at')
        .where('id', '=', u.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ consumed_at: NOW + 9 });

    const b = await database.db
      .insertInto('blob_deletions')
      .values({ storage_key: file.storage_key, created_at: NOW })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(b).toEqual({ id: expect.any(Number), storage_key: file.storage_key, created_at: NOW });
    await expect(
      database.db
        .insertInto('blob_deletions')
        .values({ storage_key: file.storage_key, created_at: NOW })
        .execute(),
    ).rejects.toSatisfy(isUniqueViolation);

    expect(
      (await database.db.deleteFrom('blob_deletions').where('id', '=', b.id).executeTakeFirst())
        .numDeletedRows,
    ).toBe(1n);
    expect(
      (await database.db.deleteFrom('upload_reservations').where('id', '=', u.id).executeTakeFirst())
        .numDeletedRows,
    ).toBe(1n);
    expect(
      (await database.db.deleteFrom('contents').where('room_id', '=', roomId).executeTakeFirst())
        .numDeletedRows,
    ).toBe(2n);
  });

  it('compares timestamps numerically and aggregates 64-bit sizes as numbers', async () => {
    const roomId = await insertRoom({ max_size: 100 * GiB });
    // 999_999_999_999 < 1_000_000_000_000 numerically but not as text.
    const times = [999_999_999_999, 1_000_000_000_000, LATER];
    for (const [i, t] of times.entries()) {
      await database.db
        .insertInto('contents')
        .values({
          room_id: roomId,
          content_type: CONTENT_TYPE.file,
          size: (i + 1) * 10 * GiB,
          created_at: t,
          updated_at: t,
        })
        .execute();
    }
    const before = await database.db
      .selectFrom('contents')
      .select('created_at')
      .where('room_id', '=', roomId)
      .where('created_at', '<', 1_000_000_000_000)
      .execute();
    expect(before).toEqual([{ created_at: 999_999_999_999 }]);
    const ordered = await database.db
      .selectFrom('contents')
      .select('created_at')
      .where('room_id', '=', roomId)
      .orderBy('created_at', 'desc')
      .execute();
    expect(ordered.map((r) => r.created_at)).toEqual([...times].reverse());

    const totals = await database.db
      .selectFrom('contents')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('size').as('bytes'),
        eb.fn.max('created_at').as('last'),
      ])
      .where('room_id', '=', roomId)
      .executeTakeFirstOrThrow();
    expect(totals).toEqual({ n: 3, bytes: 60 * GiB, last: LATER });
  });

  it('rejects duplicate room names and slugs, session jtis and refresh token hashes as unique violations', async () => {
    const room = roomValues();
    const roomId = await insertRoom(room);
    await expect(insertRoom({ name: room.name, slug: unique('slug') })).rejects.toSatisfy(isUniqueViolation);
    await expect(insertRoom({ name: unique('name'), slug: room.slug })).rejects.toSatisfy(isUniqueViolation);

    const session = {
      jti: unique('jti'),
      room_id: roomId,
      permission: 1,
      created_at: NOW,
      expires_at: LATER,
    };
    await database.db.insertInto('sessions').values(session).execute();
    await expect(database.db.insertInto('sessions').values(session).execute()).rejects.toSatisfy(
      isUniqueViolation,
    );

    const token = {
      room_id: roomId,
      session_jti: session.jti,
      token_hash: unique('hash'),
      created_at: NOW,
      expires_at: LATER,
    };
    await database.db
      .insertInto('refresh_tokens')
      .values({ ...token, jti: unique('r') })
      .execute();
    const duplicate = database.db
      .insertInto('refresh_tokens')
      .values({ ...token, jti: unique('r') })
      .execute();
    await expect(duplicate).rejects.toSatisfy((err) => isUniqueViolation(err) && !isCheckViolation(err));
  });

  it('rejects overfilled rooms and dangling room ids through constraints', async () => {
    const roomId = await insertRoom({ max_size: 10 * GiB });
    const overfill = database.db
      .updateTable('rooms')
      .set({ current_size: 10 * GiB + 1 })
      .where('id', '=', roomId)
      .execute();
    await expect(overfill).rejects.toSatisfy((err) => isCheckViolation(err) && !isUniqueViolation(err));
    await expect(insertRoom({ current_size: 2, max_size: 1 })).rejects.toSatisfy(isCheckViolation);
    await expect(
      database.db.updateTable('rooms').set({ current_size: -1 }).where('id', '=', roomId).execute(),
    ).rejects.toSatisfy(isCheckViolation);
    await expect(insertRoom({ max_times_entered: 0 })).rejects.toSatisfy(isCheckViolation);
    // The failed statements changed nothing.
    expect(
      await database.db
        .selectFrom('rooms')
        .select('current_size')
        .where('id', '=', roomId)
        .executeTakeFirstOrThrow(),
    ).toEqual({ current_size: 0 });

    const orphan = database.db
      .insertInto('sessions')
      .values({ jti: unique('jti'), room_id: 987_654_321, permission: 1, created_at: NOW, expires_at: LATER })
      .execute();
    await expect(orphan).rejects.toSatisfy((err) => isForeignKeyViolation(err) && !isUniqueViolation(err));
  });

  it('deletes sessions, refresh tokens, contents and reservations with their room only', async () => {
    const seed = async () => {
      const roomId = await insertRoom();
      const jti = unique('jti');
      await database.db
        .insertInto('sessions')
        .values({ jti, room_id: roomId, permission: 15, created_at: NOW, expires_at: LATER })
        .execute();
      await database.db
        .insertInto('refresh_tokens')
        .values({
          room_id: roomId,
          jti: unique('r'),
          session_jti: jti,
          token_hash: unique('h'),
          created_at: NOW,
          expires_at: LATER,
        })
        .execute();
      await database.db
        .insertInto('contents')
        .values({
          room_id: roomId,
          content_type: CONTENT_TYPE.text,
          text: 'hi',
          size: 2,
          created_at: NOW,
          updated_at: NOW,
        })
        .execute();
      await database.db
        .insertInto('upload_reservations')
        .values({
          room_id: roomId,
          session_jti: jti,
          kind: 'simple',
          manifest: '[]',
          reserved_size: 0,
          created_at: NOW,
          expires_at: LATER,
        })
        .execute();
      return roomId;
    };
    const doomed = await seed();
    const kept = await seed();
    const counts = async (roomId: number) =>
      Promise.all(
        (['sessions', 'refresh_tokens', 'contents', 'upload_reservations'] as const).map(async (table) =>
          Number(
            (
              await database.db
                .selectFrom(table)
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .where('room_id', '=', roomId)
                .executeTakeFirstOrThrow()
            ).n,
          ),
        ),
      );
    expect(await counts(doomed)).toEqual([1, 1, 1, 1]);

    await database.db.deleteFrom('rooms').where('id', '=', doomed).execute();
    expect(await counts(doomed)).toEqual([0, 0, 0, 0]);
    expect(await counts(kept)).toEqual([1, 1, 1, 1]);
  });

  it('grants exactly the entry limit to 30 concurrent conditional increments', async () => {
    const roomId = await insertRoom({ max_times_entered: 10 });
    const grant = (i: number) =>
      database.db.transaction().execute(async (trx) => {
        const res = await trx
          .updateTable('rooms')
          .set((eb) => ({ current_times_entered: eb('current_times_entered', '+', 1) }))
          .where('id', '=', roomId)
          .where((eb) => eb('current_times_entered', '<', eb.ref('max_times_entered')))
          .executeTakeFirst();
        if (res.numUpdatedRows !== 1n) return false;
        await trx
          .insertInto('sessions')
          .values({
            jti: `grant-${roomId}-${i}`,
            room_id: roomId,
            permission: 15,
            created_at: NOW,
            expires_at: LATER,
          })
          .execute();
        return true;
      });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => grant(i)));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(
      await database.db
        .selectFrom('rooms')
        .select('current_times_entered')
        .where('id', '=', roomId)
        .executeTakeFirstOrThrow(),
    ).toEqual({ current_times_entered: 10 });
    const sessions = await database.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('room_id', '=', roomId)
      .executeTakeFirstOrThrow();
    expect(sessions.n).toBe(10);
  });

  it('rolls back every statement of a failed transaction', async () => {
    const roomId = await insertRoom({ max_size: 100 });
    const attempt = database.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('contents')
        .values({
          room_id: roomId,
          content_type: CONTENT_TYPE.text,
          text: 'x'.repeat(101),
          size: 101,
          created_at: NOW,
          updated_at: NOW,
        })
        .execute();
      await trx
        .updateTable('rooms')
        .set((eb) => ({ current_size: eb('current_size', '+', 101) }))
        .where('id', '=', roomId)
        .execute();
    });
    await expect(attempt).rejects.toSatisfy(isCheckViolation);
    const left = await database.db
      .selectFrom('contents')
      .select('id')
      .where('room_id', '=', roomId)
      .execute();
    expect(left).toEqual([]);
  });
});
