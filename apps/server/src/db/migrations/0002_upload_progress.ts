import type { Kysely } from 'kysely';

import { columnTypes } from '../dialect.js';
import type { MigrationContext } from './types.js';

/**
 * `started_at` marks a reservation that an upload request has claimed. The claim is one
 * conditional UPDATE, so two requests racing for the same reservation cannot both write bytes:
 * the second gets 409 before it reads its body.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema.alterTable('upload_reservations').addColumn('started_at', t.int64).execute();
  await db.schema
    .createIndex('upload_reservations_room_id_consumed_at_idx')
    .on('upload_reservations')
    .columns(['room_id', 'consumed_at'])
    .execute();
}
