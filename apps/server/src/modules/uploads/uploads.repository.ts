import type { Kysely, Updateable } from 'kysely';

import type { DB, NewUploadReservation, UploadReservationRow } from '../../db/index.js';

export type ReservationPatch = Updateable<DB['upload_reservations']>;

/** SQL for upload reservations. Every function takes the executor (db or transaction). */
export const uploadsRepository = {
  insert(db: Kysely<DB>, row: NewUploadReservation): Promise<UploadReservationRow> {
    return db.insertInto('upload_reservations').values(row).returningAll().executeTakeFirstOrThrow();
  },

  findById(db: Kysely<DB>, id: number): Promise<UploadReservationRow | undefined> {
    return db.selectFrom('upload_reservations').selectAll().where('id', '=', id).executeTakeFirst();
  },

  findByUploadId(db: Kysely<DB>, uploadId: string): Promise<UploadReservationRow | undefined> {
    return db
      .selectFrom('upload_reservations')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .executeTakeFirst();
  },

  /**
   * Marks an unused, live reservation as taken by one upload request. One conditional UPDATE,
   * so of two racing requests exactly one wins.
   */
  async claim(db: Kysely<DB>, id: number, now: number, owner: string): Promise<boolean> {
    const result = await db
      .updateTable('upload_reservations')
      .set({ started_at: now, owner })
      .where('id', '=', id)
      .where('started_at', 'is', null)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Changes a live (unconsumed) reservation; false when it was released or consumed meanwhile. */
  async update(db: Kysely<DB>, id: number, patch: ReservationPatch): Promise<boolean> {
    const result = await db
      .updateTable('upload_reservations')
      .set(patch)
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async addReserved(db: Kysely<DB>, id: number, delta: number): Promise<void> {
    await db
      .updateTable('upload_reservations')
      .set((eb) => ({ reserved_size: eb('reserved_size', '+', delta) }))
      .where('id', '=', id)
      .execute();
  },

  /** Marks the reservation used up; false if it was consumed or deleted meanwhile. */
  async consume(db: Kysely<DB>, id: number, now: number, patch: ReservationPatch): Promise<boolean> {
    const result = await db
      .updateTable('upload_reservations')
      .set({ ...patch, consumed_at: now })
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async delete(db: Kysely<DB>, id: number): Promise<boolean> {
    const result = await db.deleteFrom('upload_reservations').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  },

  /** Unfinished reservations `owner` started streaming before `startedBefore` (in a previous run). */
  listOwnedUnfinished(
    db: Kysely<DB>,
    owner: string,
    startedBefore: number,
    limit: number,
  ): Promise<UploadReservationRow[]> {
    return db
      .selectFrom('upload_reservations')
      .selectAll()
      .where('owner', '=', owner)
      .where('started_at', '<', startedBefore)
      .where('consumed_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  listExpired(db: Kysely<DB>, now: number, limit: number): Promise<UploadReservationRow[]> {
    return db
      .selectFrom('upload_reservations')
      .selectAll()
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },
};
