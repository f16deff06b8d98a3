import { type Kysely, sql } from 'kysely';

import type { DB, UploadReservationRow } from '../db/index.js';

/** An arbitrary constant naming the lifecycle pass among PostgreSQL advisory locks. */
export const LIFECYCLE_LOCK_KEY = 7_215_843_001;

/** SQL of the background lifecycle pass (API.md §6). */
export const lifecycleRepository = {
  listExpiredRooms(
    db: Kysely<DB>,
    now: number,
    limit: number,
  ): Promise<Array<{ id: number; slug: string; name: string; expire_at: number }>> {
    return db
      .selectFrom('rooms')
      .select(['id', 'slug', 'name', 'expire_at'])
      .where('expire_at', '<=', now)
      .orderBy('expire_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /**
   * Expired sessions, except those a live refresh token still points at: a refresh carries the
   * old session's DELETE bit forward, so that row must outlive the access token.
   */
  async deleteExpiredSessions(db: Kysely<DB>, now: number): Promise<number> {
    const result = await db
      .deleteFrom('sessions')
      .where('expires_at', '<=', now)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('refresh_tokens')
              .select('refresh_tokens.id')
              .whereRef('refresh_tokens.session_jti', '=', 'sessions.jti')
              .where('refresh_tokens.expires_at', '>', now)
              .where('refresh_tokens.revoked_at', 'is', null)
              .where('refresh_tokens.used_at', 'is', null),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async deleteExpiredRefreshTokens(db: Kysely<DB>, now: number): Promise<number> {
    const result = await db.deleteFrom('refresh_tokens').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async deleteExpiredBlacklist(db: Kysely<DB>, now: number): Promise<number> {
    const result = await db.deleteFrom('token_blacklist').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /** Private rooms whose name reservation ran out give the name up: `name = slug`. */
  async releaseReservedNames(db: Kysely<DB>, lockedBefore: number, now: number): Promise<number> {
    const result = await db
      .updateTable('rooms')
      .set((eb) => ({ name: eb.ref('slug'), share_disabled_at: null, updated_at: now }))
      .where('share_disabled_at', 'is not', null)
      .where('share_disabled_at', '<=', lockedBefore)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /** Every upload reservation, finished or not (few: each lives one reservation TTL). */
  listReservations(db: Kysely<DB>): Promise<UploadReservationRow[]> {
    return db.selectFrom('upload_reservations').selectAll().execute();
  },

  /** Which of `keys` a content, a reservation or a queued deletion names. */
  async namedKeys(db: Kysely<DB>, keys: string[]): Promise<Set<string>> {
    const named = new Set<string>();
    // In slices, under SQLite's bound-parameter limit.
    for (let i = 0; i < keys.length; i += 500) {
      const slice = keys.slice(i, i + 500);
      const rows = await db
        .selectFrom('contents')
        .select('storage_key')
        .where('storage_key', 'in', slice)
        .union(db.selectFrom('upload_reservations').select('storage_key').where('storage_key', 'in', slice))
        .union(db.selectFrom('blob_deletions').select('storage_key').where('storage_key', 'in', slice))
        .execute();
      for (const row of rows) if (row.storage_key) named.add(row.storage_key);
    }
    return named;
  },

  /**
   * Runs `fn` only if no other connection holds the lifecycle lock. A session-level advisory
   * lock on one pinned connection: it needs no table, no expiry to tune, and dies with the
   * connection, so a crashed instance can never keep the pass blocked (a lease row would,
   * until its lease ran out). Undefined when another instance holds it.
   */
  async withPostgresLock<T>(db: Kysely<DB>, fn: () => Promise<T>): Promise<T | undefined> {
    return db.connection().execute(async (connection) => {
      const { rows } = await sql<{
        locked: boolean;
      }>`SELECT pg_try_advisory_lock(${LIFECYCLE_LOCK_KEY}) AS locked`.execute(connection);
      if (!rows[0]?.locked) return undefined;
      try {
        return await fn();
      } finally {
        await sql`SELECT pg_advisory_unlock(${LIFECYCLE_LOCK_KEY})`.execute(connection);
      }
    });
  },
};
