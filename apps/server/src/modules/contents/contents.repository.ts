import { type Kysely, PostgresAdapter, sql } from 'kysely';

import {
  CONTENT_TYPE,
  type ContentRow,
  type ContentTypeCode,
  type ContentUpdate,
  type DB,
  type NewContent,
} from '../../db/index.js';
import { prepared, runUnit, step, type Unit } from '../../db/prepared-query.js';
import { AppError, roomDeletedMeanwhile } from '../../lib/errors.js';

export interface MessageCursor {
  sequence: number;
  id: number;
}

/** Every column of a content but its id and sequence number, each given (null or not). */
export type NewMessage = Required<Omit<NewContent, 'id' | 'sequence_number'>>;

// The quota and message-post statements are prepared (db/prepared-query.ts): a post runs them
// thousands of times a second, and they run on SQLite without Kysely's per-query work.
/** Adds `delta` to the room's usage where it stays within `max_size`. */
const reserveUpdate = (db: Kysely<DB>, p: { roomId: number; delta: number }) =>
  db
    .updateTable('rooms')
    .set((eb) => ({ current_size: eb('current_size', '+', p.delta) }))
    .where('id', '=', p.roomId)
    .where((eb) => eb(eb('current_size', '+', p.delta), '<=', eb.ref('max_size')));

const reserve = prepared(reserveUpdate);

/** The same, where all rooms' usage also stays within `storage.max_total_size`. */
const reserveWithinTotal = prepared((db, p: { roomId: number; delta: number; totalCap: number }) =>
  reserveUpdate(db, p).where(
    sql<boolean>`(SELECT COALESCE(SUM(r.current_size), 0) FROM rooms r) + ${p.delta} <= ${p.totalCap}`,
  ),
);

const release = prepared((db, p: { roomId: number; bytes: number }) =>
  db
    .updateTable('rooms')
    .set({
      current_size: sql<number>`CASE WHEN current_size < ${p.bytes} THEN 0 ELSE current_size - ${p.bytes} END`,
    })
    .where('id', '=', p.roomId),
);

const sizes = prepared((db, p: { roomId: number }) =>
  db.selectFrom('rooms').select(['current_size', 'max_size']).where('id', '=', p.roomId),
);

const insertNumbered = prepared((db, p: NewMessage & { sequence_number: number }) =>
  db.insertInto('contents').values(p).returningAll(),
);

/** Numbered one past the room's highest message sequence number (0 for the first), in the INSERT. */
const insertLast = prepared((db, p: NewMessage) =>
  db
    .insertInto('contents')
    .values({
      ...p,
      sequence_number: (eb) =>
        eb
          .selectFrom('contents')
          .select(sql<number>`coalesce(max(sequence_number), -1) + 1`.as('next'))
          .where('room_id', '=', p.room_id)
          .where('content_type', '=', CONTENT_TYPE.text),
    })
    .returningAll(),
);

/**
 * PostgreSQL: a whole post in one statement, the function of migration 0009 (why: there). No
 * row = no room for the bytes.
 */
const postMessagePg = prepared((db, p: NewMessage & { totalCap: number; sequenceNumber: number | null }) => {
  const call = sql<ContentRow>`SELECT * FROM elizabeth_post_message(${p.room_id}, ${p.size},
      ${p.totalCap}, ${p.sequenceNumber}, ${p.content_type}, ${p.text}, ${p.url}, ${p.file_name},
      ${p.storage_key}, ${p.mime_type}, ${p.created_at}, ${p.updated_at}, ${p.author_id},
      ${p.author_name})`;
  return { compile: () => call.compile(db) };
});

/** See `contentsRepository.reserveRoomBytes`. */
function* reserveSteps(roomId: number, delta: number, totalCap: number): Unit<boolean> {
  if (delta <= 0) {
    if (delta < 0) yield* step(release, { roomId, bytes: -delta });
    return true;
  }
  const result =
    totalCap > 0
      ? yield* step(reserveWithinTotal, { roomId, delta, totalCap })
      : yield* step(reserve, { roomId, delta });
  if (Number(result.numAffectedRows) === 1) return true;
  return yield* refusedReservation(roomId, delta, totalCap);
}

/**
 * After a reservation of `delta` bytes was refused: false when the room is full; throws 409
 * CONFLICT when the room is gone (deleted after the request was authenticated), 507
 * INSUFFICIENT_STORAGE when only `storage.max_total_size` was in the way. Only refusals pay
 * for this read.
 */
function* refusedReservation(roomId: number, delta: number, totalCap: number): Unit<false> {
  const [room] = (yield* step(sizes, { roomId })).rows;
  if (!room) throw roomDeletedMeanwhile();
  if (totalCap > 0 && Number(room.current_size) + delta <= Number(room.max_size)) {
    throw new AppError(
      'INSUFFICIENT_STORAGE',
      "The server's storage cap is reached (storage.max_total_size)",
    );
  }
  return false;
}

/** SQL for contents and the room quota. Every function takes the executor (db or transaction). */
export const contentsRepository = {
  /**
   * Adds `delta` bytes to the room's usage if the result stays within `max_size` and, with a
   * `totalCap` (`storage.max_total_size`), all rooms' usage stays within it: one conditional
   * UPDATE, so concurrent writers can never overfill a room. False = no room or room full;
   * throws 507 INSUFFICIENT_STORAGE when only the global cap is in the way.
   */
  reserveRoomBytes(db: Kysely<DB>, roomId: number, delta: number, totalCap = 0): Promise<boolean> {
    return runUnit(db, () => reserveSteps(roomId, delta, totalCap));
  },

  /** Gives `bytes` back to the room, never below zero. */
  async releaseRoomBytes(db: Kysely<DB>, roomId: number, bytes: number): Promise<void> {
    if (bytes <= 0) return;
    await release.execute(db, { roomId, bytes });
  },

  async roomSize(db: Kysely<DB>, roomId: number): Promise<{ current_size: number; max_size: number }> {
    return db
      .selectFrom('rooms')
      .select(['current_size', 'max_size'])
      .where('id', '=', roomId)
      .executeTakeFirstOrThrow();
  },

  async insert(db: Kysely<DB>, content: NewContent): Promise<ContentRow> {
    return db.insertInto('contents').values(content).returningAll().executeTakeFirstOrThrow();
  },

  /**
   * Posts a message: reserves its bytes in the room's quota (`reserveRoomBytes`) and inserts it,
   * in one transaction (inside the caller's when `db` is one). Without a `sequenceNumber` it is
   * numbered one past the room's highest, inside the INSERT, so numbers follow arrival.
   * Undefined when the room is full (nothing written).
   */
  insertMessageWithinQuota(
    db: Kysely<DB>,
    message: NewMessage,
    { sequenceNumber, totalCap = 0 }: { sequenceNumber?: number; totalCap?: number },
  ): Promise<ContentRow | undefined> {
    // Messages are never empty (size > 0): the function's reservation always runs.
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      return runUnit(db, function* () {
        const { rows } = yield* step(postMessagePg, {
          ...message,
          totalCap,
          sequenceNumber: sequenceNumber ?? null,
        });
        if (rows[0]) return rows[0];
        yield* refusedReservation(message.room_id, message.size, totalCap);
        return undefined;
      });
    }
    return runUnit(
      db,
      function* () {
        if (!(yield* reserveSteps(message.room_id, message.size, totalCap))) return undefined;
        const { rows } =
          sequenceNumber === undefined
            ? yield* step(insertLast, message)
            : yield* step(insertNumbered, { ...message, sequence_number: sequenceNumber });
        return rows[0]!;
      },
      { transaction: true },
    );
  },

  findById(db: Kysely<DB>, id: number): Promise<ContentRow | undefined> {
    return db.selectFrom('contents').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** The contents of a room among `ids` (the others are not the room's or do not exist). */
  listInRoom(db: Kysely<DB>, roomId: number, ids: number[]): Promise<ContentRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('contents')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('id', 'in', ids)
      .execute();
  },

  findInRoom(db: Kysely<DB>, roomId: number, id: number): Promise<ContentRow | undefined> {
    return db
      .selectFrom('contents')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** Oldest first; `kinds` empty = every kind. */
  listByRoom(db: Kysely<DB>, roomId: number, kinds: ContentTypeCode[]): Promise<ContentRow[]> {
    let query = db.selectFrom('contents').selectAll().where('room_id', '=', roomId);
    if (kinds.length > 0) query = query.where('content_type', 'in', kinds);
    return query.orderBy('id').execute();
  },

  /** Up to `limit` contents of these kinds after id `afterId`, oldest first (for exports). */
  listPage(
    db: Kysely<DB>,
    roomId: number,
    kinds: ContentTypeCode[],
    afterId: number,
    limit: number,
  ): Promise<ContentRow[]> {
    return db
      .selectFrom('contents')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('content_type', 'in', kinds)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /** Messages strictly older than the cursor, newest first: `(sequence_number, id)` descending. */
  listMessagesBefore(
    db: Kysely<DB>,
    roomId: number,
    cursor: MessageCursor | undefined,
    limit: number,
  ): Promise<ContentRow[]> {
    let query = db
      .selectFrom('contents')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('content_type', '=', CONTENT_TYPE.text);
    if (cursor) {
      query = query.where((eb) =>
        eb.or([
          eb('sequence_number', '<', cursor.sequence),
          eb.and([eb('sequence_number', '=', cursor.sequence), eb('id', '<', cursor.id)]),
        ]),
      );
    }
    return query.orderBy('sequence_number', 'desc').orderBy('id', 'desc').limit(limit).execute();
  },

  /** One past the highest message sequence number of the room (0 when there is none). */
  async nextSequenceNumber(db: Kysely<DB>, roomId: number): Promise<number> {
    const row = await db
      .selectFrom('contents')
      .select((eb) => eb.fn.max('sequence_number').as('max'))
      .where('room_id', '=', roomId)
      .where('content_type', '=', CONTENT_TYPE.text)
      .executeTakeFirst();
    const max = row?.max;
    return max === null || max === undefined ? 0 : Number(max) + 1;
  },

  async update(db: Kysely<DB>, id: number, patch: ContentUpdate): Promise<ContentRow | undefined> {
    return db.updateTable('contents').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  },

  /**
   * Deletes these contents of the room and queues their stored bytes for deletion in the same
   * transaction (the caller drains the queue after commit). Returns the deleted rows.
   */
  async deleteWithBlobs(db: Kysely<DB>, roomId: number, ids: number[], now: number): Promise<ContentRow[]> {
    const rows = await db
      .selectFrom('contents')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    if (rows.length === 0) return [];
    await this.queueBlobDeletions(
      db,
      rows.map((r) => r.storage_key).filter((k): k is string => k !== null),
      now,
    );
    await db
      .deleteFrom('contents')
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows;
  },

  async queueBlobDeletions(db: Kysely<DB>, keys: string[], now: number): Promise<void> {
    if (keys.length === 0) return;
    await db
      .insertInto('blob_deletions')
      .values(keys.map((storage_key) => ({ storage_key, created_at: now })))
      .onConflict((oc) => oc.column('storage_key').doNothing())
      .execute();
  },
};
