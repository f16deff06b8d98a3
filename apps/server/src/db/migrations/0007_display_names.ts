import { type Kysely, sql } from 'kysely';

import type { MigrationContext } from './types.js';

/**
 * Who said what (API.md §2, display names). A session gets an `author_id`, a random public id
 * that its refreshed and rotated successors keep (so one person stays one author), and an
 * optional `display_name`. A content records the poster's `author_id` and `author_name`; a
 * rename rewrites `author_name` on the room's contents of that author, so every client shows
 * the same, current name, and the name survives the session rows' clean-up.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('author_id', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('display_name', 'text').execute();
  // Sessions from before this migration: one author each (16 random hex digits).
  const random =
    dialect === 'postgres'
      ? sql`substr(md5(random()::text || id::text), 1, 16)`
      : sql`lower(hex(randomblob(8)))`;
  await sql`UPDATE sessions SET author_id = ${random} WHERE author_id IS NULL`.execute(db);
  await db.schema.alterTable('contents').addColumn('author_id', 'text').execute();
  await db.schema.alterTable('contents').addColumn('author_name', 'text').execute();
  await db.schema
    .createIndex('contents_room_id_author_id_idx')
    .on('contents')
    .columns(['room_id', 'author_id'])
    .execute();
  await db.schema
    .createIndex('sessions_room_id_author_id_idx')
    .on('sessions')
    .columns(['room_id', 'author_id'])
    .execute();
}
