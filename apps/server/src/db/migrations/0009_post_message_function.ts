import { type Kysely, sql } from 'kysely';

import type { MigrationContext } from './types.js';

/**
 * PostgreSQL only: a message post in one round trip (issue 15, message posts on PostgreSQL).
 * Posting is "reserve the bytes in the room's quota, then insert numbered one past the room's
 * highest": the reservation's UPDATE locks the room's row, and the INSERT must run after that
 * lock is held so that its MAX(sequence_number) sees the posts committed before it. As four
 * statements (BEGIN, UPDATE, INSERT, COMMIT) the lock was held across two client round trips,
 * so posts to one room queued behind each other's network and event-loop time (≈ 400 posts/s,
 * p99 ≈ 300 ms at 50 clients). In a PL/pgSQL function each statement takes a fresh snapshot
 * (READ COMMITTED, VOLATILE), so the numbering stays right, and the lock is held only while
 * the server runs it. Returns the inserted row, or no row when the room (or the server's total
 * cap, when `p_total_cap` > 0) has no room for `p_size` bytes. SQLite keeps its own path (a
 * synchronous unit inside a group commit, db/prepared-query.ts).
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`
    CREATE OR REPLACE FUNCTION elizabeth_post_message(
      p_room_id bigint, p_size bigint, p_total_cap bigint, p_sequence_number bigint,
      p_content_type smallint, p_text text, p_url text, p_file_name text, p_storage_key text,
      p_mime_type text, p_created_at bigint, p_updated_at bigint, p_author_id text,
      p_author_name text
    ) RETURNS SETOF contents
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      IF p_total_cap > 0 THEN
        UPDATE rooms SET current_size = current_size + p_size
          WHERE id = p_room_id AND current_size + p_size <= max_size
            AND (SELECT COALESCE(SUM(r.current_size), 0) FROM rooms r) + p_size <= p_total_cap;
      ELSE
        UPDATE rooms SET current_size = current_size + p_size
          WHERE id = p_room_id AND current_size + p_size <= max_size;
      END IF;
      IF NOT FOUND THEN
        RETURN;
      END IF;
      RETURN QUERY
        INSERT INTO contents (room_id, content_type, text, url, file_name, storage_key, size,
            mime_type, created_at, updated_at, author_id, author_name, sequence_number)
        VALUES (p_room_id, p_content_type, p_text, p_url, p_file_name, p_storage_key, p_size,
            p_mime_type, p_created_at, p_updated_at, p_author_id, p_author_name,
            COALESCE(p_sequence_number,
              (SELECT COALESCE(MAX(c.sequence_number), -1) + 1 FROM contents c
                WHERE c.room_id = p_room_id AND c.content_type = p_content_type)))
        RETURNING *;
    END
    $$`.execute(db);
}
