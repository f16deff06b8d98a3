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

  /** Holds one download slot; false when completed plus pending downloads reach the limit. */
  async reserveDownload(db: Kysely<DB>, id: number): Promise<boolean> {
    const result = await db
      .updateTable('share_links')
      .set((eb) => ({ downloads_pending: eb('downloads_pending', '+', 1) }))
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('max_downloads', 'is not', null)
      .where((eb) => eb(eb('downloads', '+', eb.ref('downloads_pending')), '<', eb.ref('max_downloads')))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Ends a held slot: a completed transfer counts, any other gives the slot back. */
  async finishDownload(db: Kysely<DB>, id: number, completed: boolean): Promise<ShareLinkRow | undefined> {
    return db
      .updateTable('share_links')
      .set((eb) => ({
        downloads_pending: eb('downloads_pending', '-', 1),
        ...(completed ? { downloads: eb('downloads', '+', 1) } : {}),
      }))
      .where('id', '=', id)
      .where('downloads_pending', '>', 0)
      .returningAll()
      .executeTakeFirst();
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
