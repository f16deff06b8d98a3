import type { Kysely } from 'kysely';
import { z } from 'zod';

import type { DB, UploadReservationRow } from '../../db/index.js';
import type { BlobReaper } from '../../storage/blob-reaper.js';
import { contentsRepository } from '../contents/contents.repository.js';
import { uploadsRepository } from './uploads.repository.js';

/** What a reservation is for; `key` is set before bytes are written, so a crash leaves it findable. */
const ManifestFile = z.object({
  name: z.string(),
  size: z.number().int().min(0),
  mime: z.string().nullable(),
  key: z.string().optional(),
});
export type ManifestFile = z.infer<typeof ManifestFile>;
const Manifest = z.object({ files: z.array(ManifestFile) });
export type Manifest = z.infer<typeof Manifest>;

export const parseManifest = (text: string): Manifest => Manifest.parse(JSON.parse(text));
export const writeManifest = (manifest: Manifest): string => JSON.stringify(manifest);

/** Every stored key an unfinished reservation may have written. */
export function reservationKeys(row: UploadReservationRow): string[] {
  const keys = new Set<string>();
  if (row.storage_key) keys.add(row.storage_key);
  try {
    for (const file of parseManifest(row.manifest).files) if (file.key) keys.add(file.key);
  } catch {
    // A manifest that does not parse names no keys; the storage_key is still queued.
  }
  return [...keys];
}

/**
 * Removes a reservation. If it was never consumed its bytes go back to the room and what it
 * wrote is queued for deletion, all in the caller's transaction. The DELETE … RETURNING is the
 * guard: of two concurrent releases (or a release racing a finish) only one acts.
 */
export async function releaseReservation(trx: Kysely<DB>, id: number, now: number): Promise<boolean> {
  const released = await trx
    .deleteFrom('upload_reservations')
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!released) return uploadsRepository.delete(trx, id);
  await contentsRepository.releaseRoomBytes(trx, released.room_id, released.reserved_size);
  await contentsRepository.queueBlobDeletions(trx, reservationKeys(released), now);
  return true;
}

export interface ReleaseDeps {
  db: Kysely<DB>;
  blobs: BlobReaper;
}

/**
 * The lifecycle step of API.md §6: every reservation expired at `now` (at most `limit`) is
 * removed; unconsumed ones give their quota back and their partial bytes are deleted. Each
 * reservation is one transaction and the bytes leave through the deletion queue, so a crash at
 * any point leaves a consistent state that the next pass finishes. Returns how many went.
 */
export async function releaseExpiredReservations(
  deps: ReleaseDeps,
  now: number,
  limit: number,
): Promise<number> {
  const expired = await uploadsRepository.listExpired(deps.db, now, limit);
  let released = 0;
  for (const row of expired) {
    if (await deps.db.transaction().execute((trx) => releaseReservation(trx, row.id, now))) released += 1;
  }
  if (released > 0) await deps.blobs.drain();
  return released;
}

/**
 * Start-up step: the reservations this server's previous incarnation (same `owner`: host,
 * address and port) was streaming when it died. A one-shot upload cannot resume, so each is
 * released at once (quota back, partial bytes queued for deletion) instead of at its TTL.
 * Run only once the server listens: no other live process can have the same owner then;
 * `startedBefore` (this process's start) keeps the uploads this incarnation began out.
 */
export async function releaseAbandonedReservations(
  deps: ReleaseDeps,
  owner: string,
  startedBefore: number,
  now: number,
): Promise<number> {
  let released = 0;
  for (;;) {
    const rows = await uploadsRepository.listOwnedUnfinished(deps.db, owner, startedBefore, 100);
    for (const row of rows) {
      if (await deps.db.transaction().execute((trx) => releaseReservation(trx, row.id, now))) released += 1;
    }
    if (rows.length < 100) break;
  }
  if (released > 0) await deps.blobs.drain();
  return released;
}
