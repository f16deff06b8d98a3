import { sql } from 'kysely';

import type { Database } from './database.js';
import type { DB } from './schema.js';

/** Tables in foreign-key order, with the column that orders their rows. */
const COPY_TABLES: ReadonlyArray<readonly [keyof DB, string]> = [
  ['rooms', 'id'],
  ['share_links', 'id'],
  ['share_link_download_leases', 'id'],
  ['sessions', 'id'],
  ['refresh_tokens', 'id'],
  ['token_blacklist', 'jti'],
  ['contents', 'id'],
  ['upload_reservations', 'id'],
  ['blob_deletions', 'id'],
  ['room_tombstones', 'slug'],
];
const COPY_BATCH = 500;

async function countRows(database: Database, table: keyof DB): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(
    database.db,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Copies every row of `source` into `target` (both migrated to the latest schema; the target
 * empty) with the same ids, in one transaction of the target, then compares the row counts.
 * Returns the rows copied per table. The SQL of `elizabeth migrate --to`.
 */
export async function copyDatabase(source: Database, target: Database): Promise<Array<[string, number]>> {
  for (const [table] of COPY_TABLES) {
    if ((await countRows(target, table)) > 0) {
      throw new Error(`the target database is not empty (table ${table} has rows); copy into a new database`);
    }
  }
  await target.db.transaction().execute(async (trx) => {
    for (const [table, order] of COPY_TABLES) {
      for (let offset = 0; ; offset += COPY_BATCH) {
        const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}
          ORDER BY ${sql.ref(order)} LIMIT ${COPY_BATCH} OFFSET ${offset}`.execute(source.db);
        if (rows.length === 0) break;
        const columns = Object.keys(rows[0]!);
        await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
          VALUES ${sql.join(rows.map((row) => sql`(${sql.join(columns.map((c) => row[c]))})`))}`.execute(trx);
      }
      if (target.dialect === 'postgres' && order === 'id') {
        // New rows continue after the copied ids.
        await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'),
          COALESCE((SELECT MAX(id) FROM ${sql.table(table)}), 0) + 1, false)`.execute(trx);
      }
    }
  });
  const copied: Array<[string, number]> = [];
  for (const [table] of COPY_TABLES) {
    const [a, b] = [await countRows(source, table), await countRows(target, table)];
    if (a !== b) throw new Error(`table ${table}: ${a} rows in the source but ${b} in the target`);
    copied.push([table, b]);
  }
  return copied;
}
