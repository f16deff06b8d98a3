import type { Kysely } from 'kysely';

import type { MigrationContext } from './types.js';

/**
 * `owner` names the server process that streams a one-shot upload (or a claimed two-step one)
 * into storage: such a reservation cannot resume in another process, so the owner's next
 * incarnation gives it back at start-up. Null for tus uploads (resumable until their TTL) and
 * for prepared, unclaimed two-step reservations.
 */
export async function up(db: Kysely<unknown>, _context: MigrationContext): Promise<void> {
  await db.schema.alterTable('upload_reservations').addColumn('owner', 'text').execute();
}
