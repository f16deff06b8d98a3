import type { Kysely } from 'kysely';

import { columnTypes } from '../dialect.js';
import type { MigrationContext } from './types.js';

/**
 * A purged room leaves its address behind for a while, so a link to it can say "This room
 * expired" instead of opening a fresh room of the same name (API.md §1, lookup without creating).
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('room_tombstones')
    .addColumn('slug', 'text', (col) => col.primaryKey())
    .addColumn('expired_at', t.int64, (col) => col.notNull())
    .addColumn('forget_at', t.int64, (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('room_tombstones_forget_at_idx')
    .on('room_tombstones')
    .column('forget_at')
    .execute();
}
