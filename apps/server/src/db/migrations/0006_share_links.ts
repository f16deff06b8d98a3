import { type Kysely, sql } from 'kysely';

import { columnTypes } from '../dialect.js';
import type { MigrationContext } from './types.js';

/**
 * Share links (issue 19): capability links of a room. The secret is never stored: `secret_hash`
 * (SHA-256) finds the link, `nonce` lets the server derive the secret again for managers with
 * its own key. `sessions.share_link_id` marks the sessions a link issued, so revoking the link
 * ends them. The check constraints are the last guard of the limits under concurrency.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('share_links')
    .addColumn('id', ...t.id)
    .addColumn('room_id', t.int64, (col) => col.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('secret_hash', 'text', (col) => col.notNull().unique())
    .addColumn('nonce', 'text', (col) => col.notNull())
    .addColumn('permission', 'integer', (col) => col.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('expire_at', t.int64, (col) => col.notNull())
    .addColumn('max_uses', t.int64)
    .addColumn('uses', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('max_downloads', t.int64)
    .addColumn('downloads', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('downloads_pending', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('burn_after_reading', t.int16, (col) => col.notNull().defaultTo(0))
    .addColumn('content_ids', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .addColumn('revoked_at', t.int64)
    .addCheckConstraint('share_links_permission_check', sql`permission >= 1 AND permission <= 15`)
    .addCheckConstraint('share_links_uses_check', sql`uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)`)
    .addCheckConstraint(
      'share_links_downloads_check',
      sql`downloads >= 0 AND downloads_pending >= 0 AND (max_downloads IS NULL OR downloads + downloads_pending <= max_downloads)`,
    )
    .addCheckConstraint('share_links_burn_check', sql`burn_after_reading IN (0, 1)`)
    .execute();
  await db.schema.createIndex('share_links_room_id_idx').on('share_links').column('room_id').execute();
  await db.schema.alterTable('sessions').addColumn('share_link_id', t.int64).execute();
  await db.schema.createIndex('sessions_share_link_id_idx').on('sessions').column('share_link_id').execute();
}
