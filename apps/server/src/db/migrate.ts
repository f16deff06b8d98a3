import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

import type { Database, DatabaseLogger } from './database.js';
import type { Dialect } from './dialect.js';
import { type DatabaseMigration, MIGRATIONS } from './migrations/index.js';

export interface MigrateOptions {
  logger?: DatabaseLogger;
  /** SQLite file databases: copy the file before applying migrations. Default true. */
  backup?: boolean;
  /** The migrations to apply instead of the built-in list (tests). */
  migrations?: readonly DatabaseMigration[];
}

export interface MigrateResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
  /** Path of the pre-migration backup, when one was made. */
  backupFile?: string;
}

export interface MigrationStatus {
  name: string;
  applied: boolean;
  /** Epoch milliseconds, when applied. */
  appliedAt?: number;
}

/** How many `.bkpN` copies of the SQLite file are kept. */
export const KEPT_BACKUPS = 3;

class StaticMigrationProvider implements MigrationProvider {
  constructor(
    private readonly migrations: readonly DatabaseMigration[],
    private readonly dialect: Dialect,
  ) {}

  getMigrations(): Promise<Record<string, Migration>> {
    const byName: Record<string, Migration> = {};
    let previous = '';
    for (const migration of this.migrations) {
      // Kysely runs migrations in name order; a list out of that order would be misleading.
      if (migration.name <= previous) {
        throw new Error(`Migration "${migration.name}" must sort after "${previous}" and be unique`);
      }
      previous = migration.name;
      const context = { dialect: this.dialect };
      byName[migration.name] = {
        // Kysely runs SQLite migrations outside a transaction (it assumes no transactional DDL,
        // which SQLite does have); wrapping each one means a failure leaves no half-built schema.
        up: (db: Kysely<unknown>) =>
          this.dialect === 'sqlite'
            ? db.transaction().execute((trx) => migration.up(trx, context))
            : migration.up(db, context),
      };
    }
    return Promise.resolve(byName);
  }
}

function createMigrator(database: Database, migrations: readonly DatabaseMigration[]): Migrator {
  return new Migrator({
    db: database.db,
    provider: new StaticMigrationProvider(migrations, database.dialect),
  });
}

/** Every known migration and whether it has been applied, oldest first. */
export async function listMigrations(
  database: Database,
  opts: { migrations?: readonly DatabaseMigration[] } = {},
): Promise<MigrationStatus[]> {
  const infos = await createMigrator(database, opts.migrations ?? MIGRATIONS).getMigrations();
  return infos.map((info) =>
    info.executedAt
      ? { name: info.name, applied: true, appliedAt: info.executedAt.getTime() }
      : { name: info.name, applied: false },
  );
}

/**
 * Applies every pending migration. A SQLite file that already holds data is first copied to
 * `<file>.bkpN` (only the newest three copies are kept), so a failed or unwanted upgrade can
 * be undone by putting the copy back.
 */
export async function migrateToLatest(database: Database, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const { logger } = opts;
  const migrator = createMigrator(database, opts.migrations ?? MIGRATIONS);
  const pending = (await migrator.getMigrations()).filter((m) => !m.executedAt);
  if (pending.length === 0) return { applied: [] };

  let backupFile: string | undefined;
  if (
    opts.backup !== false &&
    database.dialect === 'sqlite' &&
    database.filename !== undefined &&
    database.filename !== ':memory:' &&
    (await database.db.introspection.getTables()).length > 0
  ) {
    backupFile = await backupSqlite(database.db, database.filename);
    logger?.info(
      { backup: backupFile, pending: pending.map((m) => m.name) },
      'database backed up before migrating',
    );
  }

  const { error, results = [] } = await migrator.migrateToLatest();
  const succeeded = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    // PostgreSQL runs the whole batch in one transaction (under Kysely's advisory lock), so
    // nothing of it stays; SQLite commits migration by migration.
    const kept = database.dialect === 'postgres' ? [] : succeeded;
    throw new Error(
      `Database migration ${failed ?? '(setup)'} failed: ${reason}` +
        (kept.length > 0
          ? `; applied before the failure: ${kept.join(', ')}`
          : '; no migration was applied') +
        (backupFile ? `; backup of the previous database: ${backupFile}` : ''),
      { cause: error },
    );
  }
  return backupFile === undefined ? { applied: succeeded } : { applied: succeeded, backupFile };
}

/** Existing `<file>.bkpN` backups as [N, path], ascending by N. */
export function listSqliteBackups(filename: string): Array<[number, string]> {
  const dir = dirname(filename);
  const prefix = `${basename(filename)}.bkp`;
  const found: Array<[number, string]> = [];
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(prefix)) continue;
    const suffix = entry.slice(prefix.length);
    if (/^\d+$/.test(suffix)) found.push([Number(suffix), join(dir, entry)]);
  }
  return found.sort((a, b) => a[0] - b[0]);
}

async function backupSqlite(db: Database['db'], filename: string): Promise<string> {
  const existing = listSqliteBackups(filename);
  const next = (existing.at(-1)?.[0] ?? 0) + 1;
  const target = `${filename}.bkp${next}`;
  // VACUUM INTO writes a consistent copy (including WAL content) without closing the database.
  await sql`VACUUM INTO ${target}`.execute(db);
  for (const [, path] of listSqliteBackups(filename).slice(0, -KEPT_BACKUPS)) rmSync(path, { force: true });
  return target;
}
