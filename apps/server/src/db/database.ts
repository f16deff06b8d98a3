import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  sql,
  SqliteDialect,
  type SqliteStatement,
} from 'kysely';
import type * as PG from 'pg';
import type { CustomTypesConfig, Pool, PoolClient } from 'pg';

import type { AppConfig } from '../config/types.js';
import type { Dialect } from './dialect.js';
import { isConnectionError } from './errors.js';
import { registerSqliteConnection } from './prepared-query.js';
import type { DB } from './schema.js';
import { parseDatabaseUrl } from './url.js';

/**
 * What repositories take: the database or a transaction (`Transaction<DB>` extends
 * `Kysely<DB>`), so a service can open `db.transaction().execute(trx => …)` and pass `trx` down.
 */
export type DbExecutor = Kysely<DB>;

export interface DatabaseLogger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}

export interface Database {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** SQLite only: absolute path of the database file, or `:memory:`. */
  readonly filename?: string;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes every connection; safe to call more than once. */
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  logger?: DatabaseLogger;
}

const PG_CONNECT_TIMEOUT_MS = 10_000;
const PG_IDLE_TIMEOUT_MS = 30_000;
const JOURNAL_MODES = new Set(['wal', 'delete', 'truncate', 'persist', 'memory', 'off']);

const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;

function parseInt8(value: string): number {
  const n = Number(value);
  // A silently rounded id or size would be worse than a failed query.
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint value ${value} exceeds the safe integer range`);
  return n;
}

/**
 * Type parsers for this server's pools only (the `pg` defaults stay untouched for anyone
 * else in the process): `bigint` columns and `count(*)` come back as numbers like on SQLite,
 * and so do `sum()` results, which PostgreSQL types as `numeric`.
 */
const require = createRequire(import.meta.url);
let pgModule: typeof PG | undefined;
/** `pg`, loaded on first use: a SQLite server never pays its ~15 MB (it is CommonJS, so this stays synchronous). */
function pg(): typeof PG {
  pgModule ??= require('pg') as typeof PG;
  return pgModule;
}

const pgTypeParsers: CustomTypesConfig = {
  getTypeParser(oid, format) {
    if (format !== 'binary') {
      if (oid === PG_INT8_OID) return parseInt8;
      if (oid === PG_NUMERIC_OID) return Number;
    }
    return pg().types.getTypeParser(oid, format);
  },
};

/** Opens the configured database; the schema is not touched (see `migrateToLatest`). */
export async function createDatabase(
  cfg: AppConfig['database'],
  opts: CreateDatabaseOptions = {},
): Promise<Database> {
  const target = parseDatabaseUrl(cfg.url);
  return target.dialect === 'sqlite'
    ? openSqlite(target.filename, cfg, opts.logger)
    : openPostgres(target.connectionString, cfg, opts.logger);
}

async function openSqlite(
  filename: string,
  cfg: AppConfig['database'],
  logger: DatabaseLogger | undefined,
): Promise<Database> {
  if (!JOURNAL_MODES.has(cfg.journal_mode)) {
    throw new Error(`Unknown SQLite journal mode "${cfg.journal_mode}"`);
  }
  if (!Number.isInteger(cfg.busy_timeout_ms) || cfg.busy_timeout_ms < 0) {
    throw new Error(`Invalid SQLite busy timeout ${cfg.busy_timeout_ms}`);
  }
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });

  // One connection: better-sqlite3 is synchronous, so more would only contend for the file
  // lock. Kysely queues queries and transactions on it.
  const sqlite = cachePreparedStatements(new BetterSqlite3(filename));
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  registerSqliteConnection(db, sqlite);
  try {
    // PRAGMA arguments cannot be bound; both values were validated above.
    await sql`PRAGMA busy_timeout = ${sql.raw(String(cfg.busy_timeout_ms))}`.execute(db);
    await sql`PRAGMA foreign_keys = ON`.execute(db);
    const { rows } = await sql<{
      journal_mode: string;
    }>`PRAGMA journal_mode = ${sql.raw(cfg.journal_mode)}`.execute(db);
    const journalMode = rows[0]?.journal_mode ?? 'unknown';
    // WAL makes NORMAL durable against application crashes and saves an fsync per commit.
    if (journalMode === 'wal') await sql`PRAGMA synchronous = NORMAL`.execute(db);
    const fields = { filename, journal_mode: journalMode, requested_journal_mode: cfg.journal_mode };
    if (journalMode === cfg.journal_mode) logger?.info(fields, 'SQLite database opened');
    else logger?.warn(fields, 'SQLite kept a different journal mode than configured');
  } catch (error) {
    await db.destroy();
    throw error;
  }

  return {
    db,
    dialect: 'sqlite',
    filename,
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    close: once(() => db.destroy()),
  };
}

/** Prepared statements kept per SQL text; Kysely's SQLite driver would prepare every query anew. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Makes `prepare` reuse statements by SQL text (least recently used dropped past
 * STATEMENT_CACHE_SIZE). Safe because better-sqlite3 runs each statement to completion
 * synchronously, so one statement object is never in use twice at the same time.
 */
function cachePreparedStatements(sqlite: BetterSqlite3): BetterSqlite3 {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SqliteStatement>();
  sqlite.prepare = (source: string) => {
    let statement = cache.get(source);
    if (statement) {
      cache.delete(source);
    } else {
      statement = prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, statement);
    return statement;
  };
  return sqlite;
}

function openPostgres(
  connectionString: string,
  cfg: AppConfig['database'],
  logger: DatabaseLogger | undefined,
): Database {
  const pool = new (pg().Pool)({
    connectionString,
    max: cfg.max_connections,
    min: Math.min(cfg.min_connections, cfg.max_connections),
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: PG_IDLE_TIMEOUT_MS,
    application_name: 'elizabeth',
    types: pgTypeParsers,
  });
  // An idle client that loses its connection (server restart, network drop) emits `error` on
  // the pool; unhandled, that would end the process. The pool replaces the client by itself.
  pool.on('error', (err) => {
    logger?.warn({ err }, 'idle PostgreSQL connection failed');
  });
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: guardPool(pool, (err) => logger?.warn({ err }, 'PostgreSQL connection failed during a query')),
    }),
  });
  return {
    db,
    dialect: 'postgres',
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    close: once(() => db.destroy()),
  };
}

/**
 * `pg` emits `error` on a checked-out client whose connection drops, and pg-pool listens only
 * while the client is idle, so a server restart during a query would crash the process with
 * an unhandled `error` event. Each checked-out client therefore gets a listener, and a client
 * that saw a connection failure is destroyed on release instead of being handed out again.
 * (Streaming through a cursor is not configured, so only plain queries are forwarded.)
 */
function guardPool(pool: Pool, onClientError: (err: Error) => void): PostgresPool {
  const guards = new WeakMap<PoolClient, { client: PostgresPoolClient; checkOut(): void }>();
  const guard = (raw: PoolClient) => {
    let broken = false;
    const onError = (err: Error) => {
      broken = true;
      onClientError(err);
    };
    const client = {
      query: (async (text: string, values: ReadonlyArray<unknown>) => {
        try {
          return await raw.query(text, values);
        } catch (err) {
          if (isConnectionError(err)) broken = true;
          throw err;
        }
      }) as PostgresPoolClient['query'],
      release(destroy?: boolean) {
        raw.removeListener('error', onError);
        raw.release(Boolean(destroy) || broken);
      },
    };
    return { client, checkOut: () => raw.on('error', onError) };
  };
  return {
    async connect() {
      const raw = await pool.connect();
      let guarded = guards.get(raw);
      if (!guarded) {
        guarded = guard(raw);
        guards.set(raw, guarded);
      }
      guarded.checkOut();
      return guarded.client;
    },
    end: () => pool.end(),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
