import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';

import type { DB } from '../../db/index.js';
import { prepared } from '../../db/prepared-query.js';
import { reservationKeys } from '../uploads/reservations.js';

export type RoomRow = Selectable<DB['rooms']>;
export type NewRoom = Insertable<DB['rooms']>;
export type RoomPatch = Updateable<DB['rooms']>;

/** The look-ups of every room request (prepared: db/prepared-query.ts). */
export const roomBySlug = prepared((db, p: { slug: string }) =>
  db.selectFrom('rooms').selectAll().where('slug', '=', p.slug),
);
export const roomById = prepared((db, p: { id: number }) =>
  db.selectFrom('rooms').selectAll().where('id', '=', p.id),
);

/** SQL for rooms. Every function takes the executor so services decide the transaction. */
export const roomsRepository = {
  async findBySlug(db: Kysely<DB>, slug: string): Promise<RoomRow | undefined> {
    return (await roomBySlug.execute(db, { slug })).rows[0];
  },

  /** The room at this address, or else the room whose (reserved) name this is. */
  async findBySlugOrName(db: Kysely<DB>, value: string): Promise<RoomRow | undefined> {
    const rows = await db
      .selectFrom('rooms')
      .selectAll()
      .where((eb) => eb.or([eb('slug', '=', value), eb('name', '=', value)]))
      .execute();
    return rows.find((r) => r.slug === value) ?? rows[0];
  },

  /** A room whose address or name equals `value` ignoring case (for a mistyped link). */
  findByAddressIgnoringCase(db: Kysely<DB>, value: string): Promise<RoomRow | undefined> {
    const lower = value.toLowerCase();
    return db
      .selectFrom('rooms')
      .selectAll()
      .where((eb) =>
        eb.or([eb(eb.fn('lower', ['slug']), '=', lower), eb(eb.fn('lower', ['name']), '=', lower)]),
      )
      .orderBy('id')
      .executeTakeFirst();
  },

  /** When the room last at this address expired, if it was purged recently. */
  async findTombstone(db: Kysely<DB>, slug: string, now: number): Promise<number | undefined> {
    const row = await db
      .selectFrom('room_tombstones')
      .select('expired_at')
      .where('slug', '=', slug)
      .where('forget_at', '>', now)
      .executeTakeFirst();
    return row?.expired_at;
  },

  /** Remembers the addresses of a purged room until `forget_at`. */
  async insertTombstones(
    db: Kysely<DB>,
    slugs: string[],
    expiredAt: number,
    forgetAt: number,
  ): Promise<void> {
    const values = [...new Set(slugs)].map((slug) => ({ slug, expired_at: expiredAt, forget_at: forgetAt }));
    if (values.length === 0) return;
    await db
      .insertInto('room_tombstones')
      .values(values)
      .onConflict((oc) => oc.column('slug').doUpdateSet({ expired_at: expiredAt, forget_at: forgetAt }))
      .execute();
  },

  async deleteOldTombstones(db: Kysely<DB>, now: number): Promise<number> {
    const result = await db.deleteFrom('room_tombstones').where('forget_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async findById(db: Kysely<DB>, id: number): Promise<RoomRow | undefined> {
    return (await roomById.execute(db, { id })).rows[0];
  },

  /** Whether a name is in use as a room name or address. */
  async isNameTaken(db: Kysely<DB>, name: string): Promise<boolean> {
    const row = await db
      .selectFrom('rooms')
      .select('id')
      .where((eb) => eb.or([eb('name', '=', name), eb('slug', '=', name)]))
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Inserts unless the name or slug exists (no error on a race); undefined when not inserted. */
  insertIfAbsent(db: Kysely<DB>, room: NewRoom): Promise<RoomRow | undefined> {
    return db
      .insertInto('rooms')
      .values(room)
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  async update(db: Kysely<DB>, id: number, patch: RoomPatch): Promise<RoomRow | undefined> {
    return db.updateTable('rooms').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  },

  /**
   * Counts one entry if the room is open, unexpired and under its limit. Atomic in one
   * statement, so N concurrent grants against a limit of k succeed exactly k times.
   */
  async grantEntry(db: Kysely<DB>, id: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('rooms')
      .set((eb) => ({ current_times_entered: eb('current_times_entered', '+', 1), updated_at: now }))
      .where('id', '=', id)
      .where('status', '=', 0)
      .where('expire_at', '>', now)
      .whereRef('current_times_entered', '<', 'max_times_entered')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /**
   * Deletes the room (sessions, tokens, contents and reservations cascade) after queueing every
   * stored blob of it for deletion, in the caller's transaction: bytes are removed after commit
   * and a crash in between leaves them queued, never orphaned.
   */
  async deleteWithBlobs(db: Kysely<DB>, id: number, now: number): Promise<boolean> {
    const contentKeys = await db
      .selectFrom('contents')
      .select('storage_key')
      .where('room_id', '=', id)
      .where('storage_key', 'is not', null)
      .execute();
    // Unfinished uploads: a tus upload's key, and the per-file keys a multipart upload records
    // in its manifest before writing (one-shot and two-step uploads have no storage_key).
    const reservations = await db
      .selectFrom('upload_reservations')
      .selectAll()
      .where('room_id', '=', id)
      .execute();
    const keys = [
      ...new Set([
        ...contentKeys.map((r) => r.storage_key).filter((k): k is string => k !== null),
        ...reservations.flatMap(reservationKeys),
      ]),
    ];
    // In slices, so a room with many files stays under SQLite's bound-parameter limit.
    for (let i = 0; i < keys.length; i += 500) {
      await db
        .insertInto('blob_deletions')
        .values(keys.slice(i, i + 500).map((storage_key) => ({ storage_key, created_at: now })))
        .onConflict((oc) => oc.column('storage_key').doNothing())
        .execute();
    }
    const result = await db.deleteFrom('rooms').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },
};
