import type { Kysely } from 'kysely';

import type { DB } from '../db/index.js';
import type { BlobStorage } from './blob-storage.js';

/**
 * Removes the bytes queued in `blob_deletions`. Rows are queued in the same transaction that
 * deletes what referenced the bytes, and dequeued only after the bytes are gone, so a crash at
 * any point leaves the work queued for the next drain instead of orphaning bytes.
 */
export class BlobReaper {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      storage: BlobStorage;
      logger?: { warn(obj: object, msg: string): void };
    },
  ) {}

  /** Deletes up to `limit` queued blobs; returns how many were removed. */
  async drain(limit = 500): Promise<number> {
    const { db, storage } = this.deps;
    const queued = await db
      .selectFrom('blob_deletions')
      .select(['id', 'storage_key'])
      .orderBy('id')
      .limit(limit)
      .execute();
    let removed = 0;
    for (const item of queued) {
      try {
        await storage.delete(item.storage_key);
        await db.deleteFrom('blob_deletions').where('id', '=', item.id).execute();
        removed += 1;
      } catch (error) {
        this.deps.logger?.warn(
          { err: error, key: item.storage_key },
          'could not delete stored bytes; will retry',
        );
      }
    }
    return removed;
  }
}
