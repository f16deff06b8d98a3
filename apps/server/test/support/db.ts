/**
 * Databases for tests: every call gets its own (a SQLite file in a fresh temp directory, or a
 * brand-new PostgreSQL database on the server named by ELIZABETH_TEST_DATABASE_URL), so test
 * files running in parallel never see each other's rows.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { KyselyPlugin } from 'kysely';
import { Client, escapeIdentifier } from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';

import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import { describeWithService, type ServiceAvailability } from './services.js';

export type DatabaseEngine = 'sqlite' | 'postgres';

export const TEST_DATABASE_URL_ENV = 'ELIZABETH_TEST_DATABASE_URL';

export interface TestDatabase {
  config: AppConfig['database'];
  /** Removes the database (and for SQLite its directory); call after closing it. */
  cleanup(): Promise<void>;
}

const baseConfig: Omit<AppConfig['database'], 'url'> = {
  max_connections: 10,
  min_connections: 0,
  journal_mode: 'wal',
  busy_timeout_ms: 5_000,
};

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for skip reasons. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}

let postgresAvailability: ServiceAvailability | undefined;

/**
 * Whether the PostgreSQL server answers. Suites are declared synchronously, so the probe runs
 * in a child process; the answer is cached for the rest of this test file.
 */
function probePostgres(): ServiceAvailability {
  const url = process.env[TEST_DATABASE_URL_ENV];
  if (!url) return { available: false, reason: `${TEST_DATABASE_URL_ENV} is not set` };
  const probe = `
    import { Client } from 'pg';
    const client = new Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    try { await client.connect(); await client.query('SELECT 1'); await client.end(); }
    catch (err) { process.stderr.write(String(err?.message ?? err)); process.exit(1); }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    // From here `pg` resolves through the workspace's node_modules.
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, PROBE_URL: url },
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (result.status === 0) return { available: true };
  const why = result.stderr.trim() || result.error?.message || `probe exited with ${result.status}`;
  return { available: false, reason: `${redact(url)} does not answer: ${why}` };
}

export function testDatabaseEngines(): Array<{ engine: DatabaseEngine; availability: ServiceAvailability }> {
  postgresAvailability ??= probePostgres();
  return [
    { engine: 'sqlite', availability: { available: true } },
    { engine: 'postgres', availability: postgresAvailability },
  ];
}

/** Declares the suite once per engine: `"<title> [sqlite]"` and `"<title> [postgres]"`. */
export function describeEachDatabase(title: string, body: (engine: DatabaseEngine) => void): void {
  for (const { engine, availability } of testDatabaseEngines()) {
    const name = `${title} [${engine}]`;
    if (engine === 'sqlite') describe(name, () => body(engine));
    else describeWithService('PostgreSQL', availability, name, () => body(engine));
  }
}

export async function createTestDatabase(engine: DatabaseEngine): Promise<TestDatabase> {
  return engine === 'sqlite' ? createSqliteDatabase() : createPostgresDatabase();
}

/** A migrated database of its own (`createTestDatabase`); `close` closes and removes it. */
export async function openMigratedTestDatabase(
  engine: DatabaseEngine,
): Promise<{ database: Database; close: () => Promise<void> }> {
  const testDb = await createTestDatabase(engine);
  const database = await createDatabase(testDb.config);
  await migrateToLatest(database, { backup: false });
  return {
    database,
    close: async () => {
      await database.close();
      await testDb.cleanup();
    },
  };
}

function createSqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'elz-db-'));
  return {
    config: { ...baseConfig, url: `sqlite://${join(dir, 'test.db')}` },
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function withAdminClient<T>(serverUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  // A dropped admin connection must fail the call, not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env[TEST_DATABASE_URL_ENV];
  if (!serverUrl) throw new Error(`${TEST_DATABASE_URL_ENV} is not set; PostgreSQL tests cannot run`);
  const name = `elz_t_${randomBytes(8).toString('hex')}`;
  await withAdminClient(serverUrl, (client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    config: { ...baseConfig, url: url.toString() },
    async cleanup() {
      if (dropped) return;
      dropped = true;
      // FORCE ends connections a test forgot to close instead of failing the drop.
      await withAdminClient(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

/**
 * In a suite: a migrated database of its own (`openMigratedTestDatabase`), opened before its
 * tests and removed after them. `db` is read once the suite's tests run.
 */
export function suiteDatabase(engine: DatabaseEngine): { readonly db: Database['db'] } {
  let database: Database | undefined;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ database, close } = await openMigratedTestDatabase(engine));
  });
  afterAll(() => close?.());
  return {
    get db() {
      if (!database) throw new Error('suiteDatabase: the database is opened in beforeAll');
      return database.db;
    },
  };
}

/** Counts the statements a Kysely instance runs (its executor calls `transformResult` once each). */
export function statementCounter(): KyselyPlugin & { count: number } {
  return {
    count: 0,
    transformQuery: (args) => args.node,
    transformResult(args) {
      this.count += 1;
      return Promise.resolve(args.result);
    },
  };
}
