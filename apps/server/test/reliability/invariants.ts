import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { expect } from 'vitest';

import type { DB } from '../../src/db/schema.js';
import { reservationKeys } from '../../src/modules/uploads/reservations.js';

const TUS_METADATA = '.json';
const PARTIAL = '.partial';
const TUS_SIDECARS = ['.json', '.info', '.part'];

/** Every file under a local storage root, as storage keys (`a/b`), recursively. */
export function storedFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

export interface Consistency {
  rooms: number;
  contents: number;
  reservations: number;
  files: number;
}

/**
 * QUALITY.md crash/race invariants, for a quiet system (no request in flight):
 * - every room: current_size = Σ content sizes + Σ unconsumed reservations, 0 ≤ it ≤ max_size;
 * - every file content row has its bytes (of its size);
 * - no bytes without a row: each stored file belongs to a content, an unconsumed reservation
 *   (tus data and its metadata) or a queued blob deletion (when `allowQueued`), and no
 *   `.partial` temp file is left;
 * - no reservation or content of a room that no longer exists.
 */
/** What a storage backend holds: key → size (local directory or S3 bucket listing). */
export type StoredObjects = () => Promise<Map<string, number>>;

/** A local storage root's files with their sizes. */
export function localObjects(root: string): StoredObjects {
  return () =>
    Promise.resolve(new Map(storedFiles(root).map((key) => [key, statSync(join(root, key)).size])));
}

export async function expectConsistent(
  db: Kysely<DB>,
  storage: string | StoredObjects | undefined,
  options: { allowQueued?: boolean } = {},
): Promise<Consistency> {
  const rooms = await db.selectFrom('rooms').select(['id', 'current_size', 'max_size']).execute();
  const sums = await db
    .selectFrom('contents')
    .select(['room_id', sql<number>`COALESCE(SUM(size), 0)`.as('total')])
    .groupBy('room_id')
    .execute();
  const reservations = await db
    .selectFrom('upload_reservations')
    .selectAll()
    .where('consumed_at', 'is', null)
    .execute();
  const bySum = new Map(sums.map((s) => [s.room_id, Number(s.total)]));
  const reserved = new Map<number, number>();
  for (const r of reservations) reserved.set(r.room_id, (reserved.get(r.room_id) ?? 0) + r.reserved_size);
  const roomIds = new Set(rooms.map((r) => r.id));
  for (const room of rooms) {
    const expected = (bySum.get(room.id) ?? 0) + (reserved.get(room.id) ?? 0);
    expect(room.current_size, `room ${room.id}: current_size vs contents + reservations`).toBe(expected);
    expect(room.current_size).toBeGreaterThanOrEqual(0);
    expect(room.current_size).toBeLessThanOrEqual(room.max_size);
  }
  for (const roomId of [...bySum.keys(), ...reserved.keys()]) {
    expect(roomIds.has(roomId), `rows of deleted room ${roomId}`).toBe(true);
  }

  const contents = await db
    .selectFrom('contents')
    .select(['id', 'storage_key', 'size'])
    .where('storage_key', 'is not', null)
    .execute();
  let files = 0;
  if (storage) {
    const objects = await (typeof storage === 'string' ? localObjects(storage) : storage)();
    for (const c of contents) {
      const size = objects.get(c.storage_key!);
      expect(size !== undefined, `content ${c.id} lost its bytes (${c.storage_key})`).toBe(true);
      expect(size, `content ${c.id} size`).toBe(c.size);
    }
    const known = new Set<string>(contents.map((c) => c.storage_key!));
    const reservationOwned = new Set<string>();
    for (const r of reservations) {
      for (const key of reservationKeys(r)) {
        known.add(key);
        reservationOwned.add(key);
      }
    }
    if (options.allowQueued) {
      for (const q of await db.selectFrom('blob_deletions').select('storage_key').execute())
        known.add(q.storage_key);
    }
    const stored = [...objects.keys()];
    files = stored.length;
    const orphans = stored.filter((key) => {
      if (known.has(key)) return false;
      // tus sidecars: the file store's `.json`, the S3 store's `.info` and `.part`.
      const sidecar = TUS_SIDECARS.find((s) => key.endsWith(s));
      if (sidecar && reservationOwned.has(key.slice(0, -sidecar.length))) return false;
      if (key.endsWith(TUS_METADATA) && known.has(key.slice(0, -TUS_METADATA.length))) return false;
      // A write a crash interrupted: its reservation still names the key and releases both.
      if (key.endsWith(PARTIAL) && reservationOwned.has(key.slice(0, -PARTIAL.length))) return false;
      return true;
    });
    expect(orphans, 'bytes without a row').toEqual([]);
  }
  return { rooms: rooms.length, contents: contents.length, reservations: reservations.length, files };
}
