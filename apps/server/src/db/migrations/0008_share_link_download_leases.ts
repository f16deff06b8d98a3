import { type Kysely, sql } from 'kysely';

import { columnTypes } from '../dialect.js';
import type { MigrationContext } from './types.js';

/** How long the slots held when this migration runs stay held (one default lease). */
const CARRIED_LEASE_MS = 60_000;

/**
 * A share link's download slot held by a transfer under way is a lease row (issue 19): the
 * transfer renews `lease_until` while it runs, and a slot whose lease lapsed (its server died)
 * is taken back by the next reservation or the lifecycle pass. `share_links.downloads_pending`
 * stays the count of the link's lease rows, so its check constraint still guards the limit.
 * Slots held before this migration (no row says by whom) become leases of one default period.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('share_link_download_leases')
    .addColumn('id', ...t.id)
    .addColumn('link_id', t.int64, (col) => col.notNull().references('share_links.id').onDelete('cascade'))
    .addColumn('lease_until', t.int64, (col) => col.notNull())
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('share_link_download_leases_link_id_idx')
    .on('share_link_download_leases')
    .column('link_id')
    .execute();
  await db.schema
    .createIndex('share_link_download_leases_lease_until_idx')
    .on('share_link_download_leases')
    .column('lease_until')
    .execute();
  const now = Date.now();
  const { rows } = await sql<{ id: number | string; downloads_pending: number | string }>`
    SELECT id, downloads_pending FROM share_links WHERE downloads_pending > 0`.execute(db);
  for (const row of rows) {
    for (let i = 0; i < Number(row.downloads_pending); i++) {
      await sql`INSERT INTO share_link_download_leases (link_id, lease_until, created_at)
        VALUES (${Number(row.id)}, ${now + CARRIED_LEASE_MS}, ${now})`.execute(db);
    }
  }
}
