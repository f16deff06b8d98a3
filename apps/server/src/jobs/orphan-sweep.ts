import type { Kysely } from 'kysely';

import type { DB } from '../db/index.js';
import { reservationKeys } from '../modules/uploads/reservations.js';
import type { BlobStorage } from '../storage/blob-storage.js';
import { lifecycleRepository } from './lifecycle.repository.js';

export interface OrphanSweepDeps {
  db: Kysely<DB>;
  storage: BlobStorage;
  logger?: { warn(obj: object, msg: string): void };
}

/**
 * Removes stored bytes that no row names and that nothing wrote since `olderThan` (ms): a write
 * a crash interrupted after its reservation was already gone, a tus upload whose row was lost.
 * Every upload records its key (in a reservation) before the first byte and keeps that row
 * until it expires, so with `olderThan` at least one reservation TTL back, a key no content,
 * reservation or queued deletion names can no longer become anyone's. Returns how many keys
 * were removed; a key that cannot be removed now is left to the next sweep.
 */
export async function sweepOrphans(deps: OrphanSweepDeps, olderThan: number): Promise<number> {
  const { db, storage } = deps;
  // Taken before the listing: a reservation made later only names keys written later.
  const reserved = new Set((await lifecycleRepository.listReservations(db)).flatMap(reservationKeys));
  let removed = 0;
  for await (const page of storage.list()) {
    // A key listed twice in a page (S3: an object and an open upload) counts by its latest write.
    const latest = new Map<string, number>();
    for (const b of page) latest.set(b.key, Math.max(latest.get(b.key) ?? 0, b.modifiedAt));
    const old = [...latest].filter(([key, at]) => at < olderThan && !reserved.has(key)).map(([key]) => key);
    if (old.length === 0) continue;
    const named = await lifecycleRepository.namedKeys(db, old);
    for (const key of old) {
      if (named.has(key)) continue;
      try {
        await storage.delete(key);
        removed += 1;
      } catch (error) {
        deps.logger?.warn({ err: error, key }, 'could not delete orphaned bytes; will retry');
      }
    }
  }
  return removed;
}
