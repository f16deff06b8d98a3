import { type Insertable, type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';

import type { DB } from '../../db/index.js';
import { prepared, runUnit, step } from '../../db/prepared-query.js';
import { roomById, roomBySlug, type RoomRow } from '../rooms/rooms.repository.js';

export type SessionRow = Selectable<DB['sessions']>;
export type RefreshTokenRow = Selectable<DB['refresh_tokens']>;

const sessionByJti = prepared((db, p: { jti: string }) =>
  db.selectFrom('sessions').selectAll().where('jti', '=', p.jti),
);

/**
 * PostgreSQL: the room and, as JSON in the same row, the session of `jti` — one round trip
 * instead of two. Every session column is an integer or text, so the JSON gives the same values
 * the row would (checked by test/sessions/room-and-session.test.ts).
 */
const sessionOf = (jti: string) =>
  sql<SessionRow | null>`(SELECT to_jsonb(s) FROM sessions s WHERE s.jti = ${jti})`.as('session_json');
const roomBySlugWithSession = prepared((db, p: { slug: string; jti: string }) =>
  db.selectFrom('rooms').selectAll().select(sessionOf(p.jti)).where('slug', '=', p.slug),
);
const roomByIdWithSession = prepared((db, p: { id: number; jti: string }) =>
  db.selectFrom('rooms').selectAll().select(sessionOf(p.jti)).where('id', '=', p.id),
);

/** SQL for sessions (one row per access token), refresh tokens and the refresh blacklist. */
export const sessionsRepository = {
  insertSession(db: Kysely<DB>, session: Insertable<DB['sessions']>): Promise<SessionRow> {
    return db.insertInto('sessions').values(session).returningAll().executeTakeFirstOrThrow();
  },

  async findSession(db: Kysely<DB>, jti: string): Promise<SessionRow | undefined> {
    return (await sessionByJti.execute(db, { jti })).rows[0];
  },

  /**
   * What checking a token reads: the room (by address or id) and the session of `jti`, in one
   * step (on SQLite, two statements without a wait between them; on PostgreSQL one statement).
   * No session without a room.
   */
  async findRoomAndSession(
    db: Kysely<DB>,
    room: { slug: string } | { id: number },
    jti: string,
  ): Promise<{ room?: RoomRow; session?: SessionRow }> {
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      const { rows } =
        'slug' in room
          ? await roomBySlugWithSession.execute(db, { ...room, jti })
          : await roomByIdWithSession.execute(db, { ...room, jti });
      const [row] = rows;
      if (!row) return {};
      const { session_json: session, ...found } = row;
      return session ? { room: found, session } : { room: found };
    }
    return runUnit(db, function* () {
      const [found] = ('slug' in room ? yield* step(roomBySlug, room) : yield* step(roomById, room)).rows;
      if (!found) return {};
      const [session] = (yield* step(sessionByJti, { jti })).rows;
      return { room: found, session };
    });
  },

  listSessions(db: Kysely<DB>, roomId: number, options: { activeAt?: number }): Promise<SessionRow[]> {
    let query = db.selectFrom('sessions').selectAll().where('room_id', '=', roomId);
    if (options.activeAt !== undefined) {
      query = query.where('revoked_at', 'is', null).where('expires_at', '>', options.activeAt);
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  },

  /**
   * A person's new display name: on their sessions in the room (the caller's `jti`, and every
   * other session of the same author) and on the contents they posted there.
   */
  async renameAuthor(
    db: Kysely<DB>,
    roomId: number,
    jti: string,
    authorId: string,
    displayName: string | null,
  ): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ display_name: displayName, author_id: authorId })
      .where('room_id', '=', roomId)
      .where((eb) => eb.or([eb('author_id', '=', authorId), eb('jti', '=', jti)]))
      .execute();
    await db
      .updateTable('contents')
      .set({ author_name: displayName })
      .where('room_id', '=', roomId)
      .where('author_id', '=', authorId)
      .execute();
  },

  /** Revokes one session and its refresh tokens; true when it was not revoked before. */
  async revokeSession(db: Kysely<DB>, jti: string, now: number): Promise<boolean> {
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('jti', '=', jti)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    await db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('session_jti', '=', jti)
      .where('revoked_at', 'is', null)
      .execute();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Revokes every live session of a room except one, with their refresh tokens. */
  async revokeRoomSessionsExcept(
    db: Kysely<DB>,
    roomId: number,
    exceptJti: string,
    now: number,
  ): Promise<string[]> {
    const revoked = await db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('room_id', '=', roomId)
      .where('jti', '!=', exceptJti)
      .where('revoked_at', 'is', null)
      .returning('jti')
      .execute();
    await db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('room_id', '=', roomId)
      .where('session_jti', '!=', exceptJti)
      .where('revoked_at', 'is', null)
      .execute();
    return revoked.map((r) => r.jti);
  },

  insertRefreshToken(db: Kysely<DB>, token: Insertable<DB['refresh_tokens']>): Promise<RefreshTokenRow> {
    return db.insertInto('refresh_tokens').values(token).returningAll().executeTakeFirstOrThrow();
  },

  findRefreshTokenByHash(db: Kysely<DB>, tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  },

  /** Marks a refresh token used, only if nobody else did first: the loser of a race gets false. */
  async consumeRefreshToken(db: Kysely<DB>, id: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('refresh_tokens')
      .set({ used_at: now, revoked_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Keeps a refresh token but binds it to another session (rotation of the access token). */
  async rebindRefreshTokens(db: Kysely<DB>, fromJti: string, toJti: string): Promise<void> {
    await db
      .updateTable('refresh_tokens')
      .set({ session_jti: toJti })
      .where('session_jti', '=', fromJti)
      .where('revoked_at', 'is', null)
      .execute();
  },

  async blacklist(db: Kysely<DB>, jti: string, expiresAt: number, now: number): Promise<void> {
    await db
      .insertInto('token_blacklist')
      .values({ jti, expires_at: expiresAt, created_at: now })
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
  },

  async isBlacklisted(db: Kysely<DB>, jti: string, now: number): Promise<boolean> {
    const row = await db
      .selectFrom('token_blacklist')
      .select('jti')
      .where('jti', '=', jti)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row !== undefined;
  },
};
