import { type ColumnBuilderCallback, type Kysely, sql } from 'kysely';

import { columnTypes, type DataTypeExpression } from '../dialect.js';
import type { MigrationContext } from './types.js';

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const t = columnTypes(dialect);
  const roomId: [DataTypeExpression, ColumnBuilderCallback] = [
    t.int64,
    (col) => col.notNull().references('rooms.id').onDelete('cascade'),
  ];

  await db.schema
    .createTable('rooms')
    .addColumn('id', ...t.id)
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('slug', 'text', (col) => col.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('status', t.int16, (col) => col.notNull().defaultTo(0))
    .addColumn('permission', 'integer', (col) => col.notNull())
    .addColumn('max_size', t.int64, (col) => col.notNull())
    .addColumn('current_size', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('max_times_entered', t.int64, (col) => col.notNull())
    .addColumn('current_times_entered', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('expire_at', t.int64, (col) => col.notNull())
    .addColumn('share_disabled_at', t.int64)
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .addColumn('updated_at', t.int64, (col) => col.notNull())
    .addCheckConstraint('rooms_status_check', sql`status IN (0, 2)`)
    .addCheckConstraint('rooms_permission_check', sql`permission >= 0 AND permission <= 15`)
    .addCheckConstraint('rooms_max_size_check', sql`max_size > 0`)
    // The last guard of the quota: no code path can overfill a room or make usage negative.
    .addCheckConstraint('rooms_current_size_check', sql`current_size >= 0 AND current_size <= max_size`)
    .addCheckConstraint('rooms_max_times_entered_check', sql`max_times_entered > 0`)
    .addCheckConstraint(
      'rooms_current_times_entered_check',
      sql`current_times_entered >= 0 AND current_times_entered <= max_times_entered`,
    )
    .execute();
  await db.schema.createIndex('rooms_expire_at_idx').on('rooms').column('expire_at').execute();
  await db.schema
    .createIndex('rooms_share_disabled_at_idx')
    .on('rooms')
    .column('share_disabled_at')
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', ...t.id)
    .addColumn('jti', 'text', (col) => col.notNull().unique())
    .addColumn('room_id', ...roomId)
    .addColumn('permission', 'integer', (col) => col.notNull())
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .addColumn('expires_at', t.int64, (col) => col.notNull())
    .addColumn('revoked_at', t.int64)
    .execute();
  await db.schema
    .createIndex('sessions_room_id_created_at_idx')
    .on('sessions')
    .columns(['room_id', 'created_at'])
    .execute();
  await db.schema.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', ...t.id)
    .addColumn('room_id', ...roomId)
    .addColumn('jti', 'text', (col) => col.notNull().unique())
    .addColumn('session_jti', 'text', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .addColumn('expires_at', t.int64, (col) => col.notNull())
    .addColumn('used_at', t.int64)
    .addColumn('revoked_at', t.int64)
    .execute();
  // The cascade from rooms has to find the children without a scan on PostgreSQL.
  await db.schema.createIndex('refresh_tokens_room_id_idx').on('refresh_tokens').column('room_id').execute();
  await db.schema
    .createIndex('refresh_tokens_session_jti_idx')
    .on('refresh_tokens')
    .column('session_jti')
    .execute();
  await db.schema
    .createIndex('refresh_tokens_expires_at_idx')
    .on('refresh_tokens')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('token_blacklist')
    .addColumn('jti', 'text', (col) => col.primaryKey())
    .addColumn('expires_at', t.int64, (col) => col.notNull())
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('token_blacklist_expires_at_idx')
    .on('token_blacklist')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('contents')
    .addColumn('id', ...t.id)
    .addColumn('room_id', ...roomId)
    .addColumn('content_type', t.int16, (col) => col.notNull())
    .addColumn('text', 'text')
    .addColumn('url', 'text')
    .addColumn('file_name', 'text')
    .addColumn('storage_key', 'text')
    .addColumn('size', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('mime_type', 'text')
    .addColumn('sequence_number', t.int64, (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .addColumn('updated_at', t.int64, (col) => col.notNull())
    .addCheckConstraint('contents_content_type_check', sql`content_type IN (0, 1, 2, 3)`)
    .addCheckConstraint('contents_size_check', sql`size >= 0`)
    .execute();
  await db.schema
    .createIndex('contents_message_page_idx')
    .on('contents')
    .columns(['room_id', 'content_type', 'sequence_number', 'id'])
    .execute();
  await db.schema.createIndex('contents_room_id_id_idx').on('contents').columns(['room_id', 'id']).execute();

  await db.schema
    .createTable('upload_reservations')
    .addColumn('id', ...t.id)
    .addColumn('room_id', ...roomId)
    .addColumn('session_jti', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('manifest', 'text', (col) => col.notNull())
    .addColumn('reserved_size', t.int64, (col) => col.notNull())
    .addColumn('upload_id', 'text', (col) => col.unique())
    .addColumn('storage_key', 'text')
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .addColumn('expires_at', t.int64, (col) => col.notNull())
    .addColumn('consumed_at', t.int64)
    .addCheckConstraint('upload_reservations_kind_check', sql`kind IN ('simple', 'tus')`)
    .addCheckConstraint('upload_reservations_reserved_size_check', sql`reserved_size >= 0`)
    .execute();
  await db.schema
    .createIndex('upload_reservations_expires_at_idx')
    .on('upload_reservations')
    .column('expires_at')
    .execute();
  await db.schema
    .createIndex('upload_reservations_room_id_idx')
    .on('upload_reservations')
    .column('room_id')
    .execute();

  await db.schema
    .createTable('blob_deletions')
    .addColumn('id', ...t.id)
    .addColumn('storage_key', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', t.int64, (col) => col.notNull())
    .execute();
}
