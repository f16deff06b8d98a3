import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AppConfig } from '../../src/config/types.js';
import {
  createDatabase,
  type Database,
  type DatabaseMigration,
  isConnectionError,
  listSqliteBackups,
  MIGRATIONS,
  migrateToLatest,
} from '../../src/db/index.js';

function config(url: string, overrides: Partial<AppConfig['database']> = {}): AppConfig['database'] {
  return {
    url,
    max_connections: 1,
    min_connections: 0,
    journal_mode: 'wal',
    busy_timeout_ms: 5_000,
    ...overrides,
  };
}

/** Migration `900N_extra` (sorting after every real migration) creating table `extra_N`, to make a migration pending on demand. */
const extra = (n: number): DatabaseMigration => ({
  name: `900${n}_extra`,
  async up(db) {
    await db.schema.createTable(`extra_${n}`).addColumn('id', 'integer').execute();
  },
});

async function pragma(database: Database, name: string): Promise<unknown> {
  const { rows } = await sql<Record<string, unknown>>`PRAGMA ${sql.raw(name)}`.execute(database.db);
  return Object.values(rows[0] ?? {})[0];
}

function recordingLogger() {
  const lines: Array<{ level: 'info' | 'warn'; obj: unknown; msg: string | undefined }> = [];
  return {
    lines,
    info: (obj: object | string, msg?: string) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj: object | string, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
  };
}

describe('SQLite database', () => {
  let dir: string;
  let file: string;
  const open: Database[] = [];
  const openDb = async (cfg: AppConfig['database'], logger?: ReturnType<typeof recordingLogger>) => {
    const database = await createDatabase(cfg, logger ? { logger } : {});
    open.push(database);
    return database;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'elz-sqlite-'));
    file = join(dir, 'nested', 'deeper', 'elizabeth.db');
  });
  afterEach(async () => {
    for (const database of open.splice(0)) await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the parent directory and applies WAL, foreign keys, busy timeout and NORMAL sync', async () => {
    const logger = recordingLogger();
    const database = await openDb(config(`sqlite://${file}`, { busy_timeout_ms: 1234 }), logger);
    expect(existsSync(file)).toBe(true);
    expect(database.filename).toBe(file);
    expect(await pragma(database, 'journal_mode')).toBe('wal');
    expect(await pragma(database, 'foreign_keys')).toBe(1);
    expect(await pragma(database, 'busy_timeout')).toBe(1234);
    expect(await pragma(database, 'synchronous')).toBe(1);
    expect(logger.lines).toEqual([
      {
        level: 'info',
        obj: { filename: file, journal_mode: 'wal', requested_journal_mode: 'wal' },
        msg: 'SQLite database opened',
      },
    ]);
  });

  it('applies the delete journal mode and keeps full sync with it', async () => {
    const database = await openDb(config(`sqlite://${file}`, { journal_mode: 'delete' }));
    expect(await pragma(database, 'journal_mode')).toBe('delete');
    expect(await pragma(database, 'synchronous')).toBe(2);
    // A database once switched to WAL stays WAL until told otherwise: switching back works.
    await database.close();
    const wal = await openDb(config(`sqlite://${file}`, { journal_mode: 'wal' }));
    expect(await pragma(wal, 'journal_mode')).toBe('wal');
    await wal.close();
    const back = await openDb(config(`sqlite://${file}`, { journal_mode: 'delete' }));
    expect(await pragma(back, 'journal_mode')).toBe('delete');
  });

  it('warns when SQLite keeps another journal mode (in-memory databases cannot use WAL)', async () => {
    const logger = recordingLogger();
    const database = await openDb(config('sqlite::memory:'), logger);
    expect(await pragma(database, 'journal_mode')).toBe('memory');
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'SQLite kept a different journal mode than configured'],
    ]);
    expect(await migrateToLatest(database)).toEqual({ applied: MIGRATIONS.map((m) => m.name) });
  });

  it('rejects an unknown journal mode before opening anything', async () => {
    await expect(
      createDatabase(config(`sqlite://${file}`, { journal_mode: 'wal; DROP TABLE rooms' as 'wal' })),
    ).rejects.toThrow(/Unknown SQLite journal mode/);
    expect(existsSync(file)).toBe(false);
  });

  it('makes no backup of an empty database', async () => {
    const database = await openDb(config(`sqlite://${file}`));
    const result = await migrateToLatest(database);
    expect(result).toEqual({ applied: MIGRATIONS.map((m) => m.name) });
    expect(listSqliteBackups(file)).toEqual([]);
  });

  it('backs up a database with tables before a pending migration and keeps the newest three', async () => {
    const logger = recordingLogger();
    const database = await openDb(config(`sqlite://${file}`));
    await migrateToLatest(database);
    await database.db
      .insertInto('rooms')
      .values({
        name: 'kept',
        slug: 'kept',
        password_hash: null,
        permission: 15,
        max_size: 1,
        max_times_entered: 1,
        expire_at: 1,
        share_disabled_at: null,
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    // Files that merely look similar are not backups and must survive the pruning.
    writeFileSync(`${file}.bkp2.partial`, '');
    writeFileSync(join(dir, 'nested', 'deeper', 'other.db.bkp1'), '');

    const migrations = [...MIGRATIONS];
    for (let n = 2; n <= 6; n++) {
      migrations.push(extra(n));
      const result = await migrateToLatest(database, { migrations, logger });
      expect(result).toEqual({ applied: [`900${n}_extra`], backupFile: `${file}.bkp${n - 1}` });
    }
    expect(listSqliteBackups(file).map(([n]) => n)).toEqual([3, 4, 5]);
    expect(readdirSync(dirname(file)).sort()).toEqual(
      [
        'elizabeth.db',
        'elizabeth.db-shm',
        'elizabeth.db-wal',
        'elizabeth.db.bkp2.partial',
        'elizabeth.db.bkp3',
        'elizabeth.db.bkp4',
        'elizabeth.db.bkp5',
        'other.db.bkp1',
      ].sort(),
    );
    expect(logger.lines.filter((l) => l.msg === 'database backed up before migrating')).toHaveLength(5);

    // A backup is the state before its migration: bkp5 was taken before 0006 ran.
    const backup = await openDb(config(`sqlite://${file}.bkp5`, { journal_mode: 'delete' }));
    const tables = (await backup.db.introspection.getTables()).map((t) => t.name);
    expect(tables).toContain('extra_5');
    expect(tables).not.toContain('extra_6');
    expect(await backup.db.selectFrom('rooms').select('name').execute()).toEqual([{ name: 'kept' }]);

    // Nothing pending: no new backup.
    expect(await migrateToLatest(database, { migrations })).toEqual({ applied: [] });
    expect(listSqliteBackups(file).map(([n]) => n)).toEqual([3, 4, 5]);
  });

  it('numbers a backup after the highest existing one and honours backup: false', async () => {
    const database = await openDb(config(`sqlite://${file}`));
    await migrateToLatest(database);
    writeFileSync(`${file}.bkp9`, 'old');
    writeFileSync(`${file}.bkp10`, 'old');

    expect(await migrateToLatest(database, { migrations: [...MIGRATIONS, extra(2)], backup: false })).toEqual(
      {
        applied: ['9002_extra'],
      },
    );
    expect(listSqliteBackups(file).map(([n]) => n)).toEqual([9, 10]);

    const result = await migrateToLatest(database, { migrations: [...MIGRATIONS, extra(2), extra(3)] });
    expect(result.backupFile).toBe(`${file}.bkp11`);
    expect(listSqliteBackups(file).map(([n]) => n)).toEqual([9, 10, 11]);
  });

  it('reports a locked database as a connection problem (503, not 500)', async () => {
    const holder = await openDb(config(`sqlite://${file}`));
    await migrateToLatest(holder);
    const other = await openDb(config(`sqlite://${file}`, { busy_timeout_ms: 0 }));
    await sql`BEGIN EXCLUSIVE`.execute(holder.db);
    try {
      const blocked = other.db.deleteFrom('rooms').execute();
      await expect(blocked).rejects.toSatisfy(isConnectionError);
    } finally {
      await sql`ROLLBACK`.execute(holder.db);
    }
    await expect(other.db.deleteFrom('rooms').execute()).resolves.toBeDefined();
  });

  it('reports an unopenable file as a connection problem', async () => {
    const error = await createDatabase(config(`sqlite://${dir}`)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeDefined();
    expect(isConnectionError(error)).toBe(true);
  });
});
