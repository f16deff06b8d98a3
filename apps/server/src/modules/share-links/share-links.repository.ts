import type { Insertable, Kysely, Selectable } from 'kysely';

import type { DB } from '../../db/index.js';

export type ShareLinkRow = Selectable<DB['share_links']>;

/** SQL for share links. Limits are taken by conditional updates, atomic on both engines. */
export const shareLinksRepository = {
  insert(db: Kysely<DB>, link: Insertable<DB['share_links']>): Promise<ShareLinkRow> {
    return db.insertInto('share_links').values(link).returningAll().executeTakeFirstOrThrow();
  },

  findById(db: Kysely<DB>, id: number): Promise<ShareLinkRow | undefined> {
    return db.selectFrom('share_links').selectAll().where('id', '=', id).executeTakeFirst();
  },

  findByHash(db: Kysely<DB>, secretHash: string): Promise<ShareLinkRow | undefined> {
    return db.selectFrom('share_links').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
  },

  /** Newest first; with `activeAt`, only links neither revoked nor expired then. */
  listByRoom(db: Kysely<DB>, roomId: number, options: { activeAt?: number }): Promise<ShareLinkRow[]> {
    let query = db.selectFrom('share_links').selectAll().where('room_id', '=', roomId);
    if (options.activeAt !== undefined) {
      query = query.where('revoked_at', 'is', null).where('expire_at', '>', options.activeAt);
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  },

  /** Takes one use of a live link; false when it is revoked, expired or used up. */
  async claimUse(db: Kysely<DB>, id: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('share_links')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('expire_at', '>', now)
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /**
   * Holds one download slot as a lease until `leaseUntil`; the lease's id, or undefined when
   * completed downloads plus held slots reach the limit. Lapsed leases of the link are taken
   * back first, in the same transaction. The conditional update of `downloads_pending` is the
   * atomic step on both engines (a row lock on PostgreSQL, the one writer on SQLite), and the
   * table's check constraint guards it.
   */
  reserveDownload(db: Kysely<DB>, id: number, now: number, leaseUntil: number): Promise<number | undefined> {
    return db.transaction().execute(async (trx) => {
      await shareLinksRepository.reclaimLapsedLeases(trx, now, id);
      const result = await trx
        .updateTable('share_links')
        .set((eb) => ({ downloads_pending: eb('downloads_pending', '+', 1) }))
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .where('max_downloads', 'is not', null)
        .where((eb) => eb(eb('downloads', '+', eb.ref('downloads_pending')), '<', eb.ref('max_downloads')))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return undefined;
      const lease = await trx
        .insertInto('share_link_download_leases')
        .values({ link_id: id, lease_until: leaseUntil, created_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(lease.id);
    });
  },

  /** Moves a held lease's end; false when the lease is gone (it lapsed and was taken back). */
  async renewLease(db: Kysely<DB>, leaseId: number, leaseUntil: number): Promise<boolean> {
    const result = await db
      .updateTable('share_link_download_leases')
      .set({ lease_until: leaseUntil })
      .where('id', '=', leaseId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /**
   * Takes back lapsed leases (of one link, or of all): deletes them and lowers each link's
   * `downloads_pending` by as many. Returns how many. A lease is deleted by one transaction
   * only, so it is given back once however many instances reclaim at the same time.
   */
  async reclaimLapsedLeases(db: Kysely<DB>, now: number, linkId?: number): Promise<number> {
    let query = db.deleteFrom('share_link_download_leases').where('lease_until', '<=', now);
    if (linkId !== undefined) query = query.where('link_id', '=', linkId);
    const gone = await query.returning('link_id').execute();
    const perLink = new Map<number, number>();
    for (const { link_id } of gone) perLink.set(Number(link_id), (perLink.get(Number(link_id)) ?? 0) + 1);
    for (const [link, count] of [...perLink].sort(([a], [b]) => a - b)) {
      await db
        .updateTable('share_links')
        .set((eb) => ({
          downloads_pending: eb
            .case()
            .when('downloads_pending', '>=', count)
            .then(eb('downloads_pending', '-', count))
            .else(0)
            .end(),
        }))
        .where('id', '=', link)
        .execute();
    }
    return gone.length;
  },

  /**
   * Ends a held slot: a completed transfer counts, any other gives the slot back. A transfer
   * whose lease was taken back meanwhile (it went unrenewed past its end) holds no slot: its
   * completion counts only while the limit leaves room for it.
   */
  finishDownload(
    db: Kysely<DB>,
    id: number,
    leaseId: number,
    completed: boolean,
  ): Promise<ShareLinkRow | undefined> {
    return db.transaction().execute(async (trx) => {
      const released = await trx
        .deleteFrom('share_link_download_leases')
        .where('id', '=', leaseId)
        .executeTakeFirst();
      if (Number(released.numDeletedRows) === 1) {
        return trx
          .updateTable('share_links')
          .set((eb) => ({
            downloads_pending: eb('downloads_pending', '-', 1),
            ...(completed ? { downloads: eb('downloads', '+', 1) } : {}),
          }))
          .where('id', '=', id)
          .where('downloads_pending', '>', 0)
          .returningAll()
          .executeTakeFirst();
      }
      if (!completed) return undefined;
      return trx
        .updateTable('share_links')
        .set((eb) => ({ downloads: eb('downloads', '+', 1) }))
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('max_downloads', 'is', null),
            eb(eb('downloads', '+', eb.ref('downloads_pending')), '<', eb.ref('max_downloads')),
          ]),
        )
        .returningAll()
        .executeTakeFirst();
    });
  },

  async revoke(db: Kysely<DB>, id: number, now: number): Promise<boolean> {
    const result = await db
      .updateTable('share_links')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /**
   * Revokes every live session the link issued and their refresh tokens. Returns the jtis of
   * all its sessions, the ones revoked before included: a socket outlives a rotation of its
   * token, and must end with the link too.
   */
  async revokeSessions(db: Kysely<DB>, id: number, now: number): Promise<string[]> {
    await db
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('share_link_id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    await db
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('revoked_at', 'is', null)
      .where('session_jti', 'in', (eb) =>
        eb.selectFrom('sessions').select('jti').where('share_link_id', '=', id),
      )
      .execute();
    const sessions = await db.selectFrom('sessions').select('jti').where('share_link_id', '=', id).execute();
    return sessions.map((s) => s.jti);
  },
};
