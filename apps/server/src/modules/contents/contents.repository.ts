import { type Kysely, sql } from 'kysely';

import {
  CONTENT_TYPE,
  type ContentRow,
  type ContentTypeCode,
  type ContentUpdate,
  type DB,
  type NewContent,
} from '../../db/index.js';
import { AppError } from '../../lib/errors.js';

export interface MessageCursor {
  sequence: number;
  id: number;
}

/** SQL for contents and the room quota. Every function takes the executor (db or transaction). */
export const contentsRepository = {
  /**
   * Adds `delta` bytes to the room's usage if the result stays within `max_size` and, with a
   * `totalCap` (`storage.max_total_size`), all rooms' usage stays within it: one conditional
   * UPDATE, so concurrent writers can never overfill a room. False = no room or room full;
   * throws 507 INSUFFICIENT_STORAGE when only the global cap is in the way.
   */
  async reserveRoomBytes(db: Kysely<DB>, roomId: number, delta: number, totalCap = 0): Promise<boolean> {
    if (delta <= 0) {
      await this.releaseRoomBytes(db, roomId, -delta);
      return true;
    }
    let update = db
      .updateTable('rooms')
      .set((eb) => ({ current_size: eb('current_size', '+', delta) }))
      .where('id', '=', roomId)
      .where((eb) => eb(eb('current_size', '+', delta), '<=', eb.ref('max_size')));
    if (totalCap > 0) {
      update = update.where(
        sql<boolean>`(SELECT COALESCE(SUM(r.current_size), 0) FROM rooms r) + ${delta} <= ${totalCap}`,
      );
    }
    const result = await update.executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return true;
    if (totalCap > 0) {
      const room = await db
        .selectFrom('rooms')
        .select(['current_size', 'max_size'])
        .where('id', '=', roomId)
        .executeTakeFirst();
      if (room && Number(room.current_size) + delta <= Number(room.max_size)) {
        throw new AppError(
          'INSUFFICIENT_STORAGE',
          "The server's storage cap is reached (storage.max_total_size)",
        );
      }
    }
    return false;
  },

  /** Gives `bytes` back to the room, never below zero. */
  async releaseRoomBytes(db: Kysely<DB>, roomId: number, bytes: number): Promise<void> {
    if (bytes <= 0) return;
    await db
      .updateTable('rooms')
      .set({
        current_size: sql<number>`CASE WHEN current_size < ${bytes} THEN 0 ELSE current_size - ${bytes} END`,
      })
      .where('id', '=', roomId)
      .execute();
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
   * Inserts a message numbered one past the room's highest message sequence number (0 for the
   * first), computed inside the INSERT: one statement instead of a SELECT and an INSERT.
   */
  async insertMessageLast(db: Kysely<DB>, content: Omit<NewContent, 'sequence_number'>): Promise<ContentRow> {
    return db
      .insertInto('contents')
      .values({
        ...content,
        sequence_number: (eb) =>
          eb
            .selectFrom('contents')
            .select(sql<number>`coalesce(max(sequence_number), -1) + 1`.as('next'))
            .where('room_id', '=', content.room_id)
            .where('content_type', '=', CONTENT_TYPE.text),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
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
