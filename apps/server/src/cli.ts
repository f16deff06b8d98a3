import { Command, Option } from 'commander';
import { sql } from 'kysely';

import {
  type AppConfig,
  type CliOverrides,
  ConfigError,
  formatConfigReport,
  loadConfig,
  redactUrl,
} from './config/index.js';
import { createDatabase, type Database, type DB, listMigrations, migrateToLatest } from './db/index.js';
import { Lifecycle } from './jobs/lifecycle.js';
import { sweepOrphans } from './jobs/orphan-sweep.js';
import { systemClock } from './lib/clock.js';
import { MemoryEventBus } from './realtime/memory-event-bus.js';
import { createRedisEventBus } from './realtime/realtime.js';
import { BlobReaper } from './storage/blob-reaper.js';
import { releaseExpiredReservations } from './modules/uploads/reservations.js';
import { createStorage } from './storage/index.js';
import { SERVER_VERSION } from './lib/version.js';
import { closeOnSignals, startServer } from './main.js';

interface CommonOptions {
  configFile?: string;
  port?: string;
  listenAddr?: string;
  jwtSecret?: string;
  dbUrl?: string;
  verbose: number;
}

function withConfigOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config-file <path>', 'YAML configuration file (also CONFIG_FILE)'))
    .addOption(new Option('-p, --port <port>', 'port to listen on (app.server.port)'))
    .addOption(new Option('-l, --listen-addr <addr>', 'address to bind (app.server.addr)'))
    .addOption(new Option('-j, --jwt-secret <secret>', 'JWT signing secret, at least 32 characters'))
    .addOption(
      new Option('-d, --db-url <url>', 'database URL: sqlite:///abs.db, sqlite://rel.db, postgres://…'),
    )
    .addOption(
      new Option('-v, --verbose', 'more logging: -v info, -vv debug, -vvv trace').argParser(
        (_value: string, previous: number) => previous + 1,
      ),
    );
}

/** Tables in foreign-key order, with the column that orders their rows. */
const COPY_TABLES: ReadonlyArray<readonly [keyof DB, string]> = [
  ['rooms', 'id'],
  ['sessions', 'id'],
  ['refresh_tokens', 'id'],
  ['token_blacklist', 'jti'],
  ['contents', 'id'],
  ['upload_reservations', 'id'],
  ['blob_deletions', 'id'],
];
const COPY_BATCH = 500;

async function countRows(database: Database, table: keyof DB): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(
    database.db,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * `elizabeth migrate --to <url>`: copies every row of the configured database into another,
 * empty one (typically SQLite → PostgreSQL) with the same ids, in one transaction, then checks
 * the row counts. Stored files are not touched: they are addressed by keys in the rows.
 */
async function copyDatabase(
  from: AppConfig['database'],
  toUrl: string,
  print: (line: string) => void,
): Promise<void> {
  const source = await createDatabase(from);
  const target = await createDatabase({ ...from, url: toUrl });
  try {
    await migrateToLatest(source);
    await migrateToLatest(target);
    for (const [table] of COPY_TABLES) {
      if ((await countRows(target, table)) > 0) {
        throw new Error(
          `the target database is not empty (table ${table} has rows); copy into a new database`,
        );
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
            VALUES ${sql.join(rows.map((row) => sql`(${sql.join(columns.map((c) => row[c]))})`))}`.execute(
            trx,
          );
        }
        if (target.dialect === 'postgres' && order === 'id') {
          // New rows continue after the copied ids.
          await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'),
            COALESCE((SELECT MAX(id) FROM ${sql.table(table)}), 0) + 1, false)`.execute(trx);
        }
      }
    });
    for (const [table] of COPY_TABLES) {
      const [a, b] = [await countRows(source, table), await countRows(target, table)];
      if (a !== b) throw new Error(`table ${table}: ${a} rows in the source but ${b} in the target`);
      print(`${table}: ${b}`);
    }
    print(`copied into ${redactUrl(toUrl)}; stored files are unchanged. Point DATABASE_URL at it.`);
  } finally {
    await target.close();
    await source.close();
  }
}

function overrides(options: CommonOptions): CliOverrides {
  return {
    ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.listenAddr !== undefined ? { listenAddr: options.listenAddr } : {}),
    ...(options.jwtSecret !== undefined ? { jwtSecret: options.jwtSecret } : {}),
    ...(options.dbUrl !== undefined ? { dbUrl: options.dbUrl } : {}),
    ...(options.verbose > 0 ? { verbose: options.verbose } : {}),
  };
}

export function buildCli(): Command {
  const program = new Command('elizabeth')
    .description('Elizabeth: a self-hosted, room-centric temporary sharing space')
    .version(SERVER_VERSION, '-V, --version')
    .showHelpAfterError();

  withConfigOptions(
    program
      .command('serve')
      .aliases(['run', 'start'])
      .description('start the server (API, WebSocket and web app on one port)'),
  ).action(async (options: CommonOptions) => {
    const server = await startServer(loadConfig({ cli: overrides(options) }));
    closeOnSignals(server);
  });

  withConfigOptions(
    program.command('config').description('print the effective configuration with the source of each value'),
  ).action((options: CommonOptions) => {
    process.stdout.write(`${formatConfigReport(loadConfig({ cli: overrides(options) }))}\n`);
  });

  withConfigOptions(
    program
      .command('migrate')
      .description('apply pending database migrations (SQLite files are backed up first)')
      .option('--status', 'list migrations and whether each is applied, change nothing')
      .option(
        '--to <url>',
        'copy every row into another, empty database (e.g. SQLite → postgres://…); files stay where they are',
      ),
  ).action(async (options: CommonOptions & { status?: boolean; to?: string }) => {
    const { config } = loadConfig({ cli: overrides(options) });
    if (options.to !== undefined) {
      await copyDatabase(config.database, options.to, (line) => process.stdout.write(`${line}\n`));
      return;
    }
    const database = await createDatabase(config.database);
    try {
      if (options.status) {
        for (const m of await listMigrations(database)) {
          process.stdout.write(`${m.applied ? 'applied' : 'pending'}  ${m.name}\n`);
        }
        return;
      }
      const result = await migrateToLatest(database);
      process.stdout.write(
        result.applied.length === 0
          ? 'database is up to date\n'
          : `applied: ${result.applied.join(', ')}${result.backupFile ? `\nbackup: ${result.backupFile}` : ''}\n`,
      );
    } finally {
      await database.close();
    }
  });

  withConfigOptions(
    program
      .command('gc')
      .description('run one lifecycle pass now (expired rooms, reservations, tokens, names, stored bytes)'),
  ).action(async (options: CommonOptions) => {
    const { config } = loadConfig({ cli: overrides(options) });
    const database = await createDatabase(config.database);
    // With Redis, the servers hear about the rooms this pass deletes and close their sockets.
    const events = config.realtime.redis_url ? createRedisEventBus(config.realtime) : new MemoryEventBus();
    try {
      const storage = await createStorage(config.storage);
      const blobs = new BlobReaper({ db: database.db, storage });
      const lifecycle = new Lifecycle({
        database,
        config,
        clock: systemClock,
        events,
        blobs,
        releaseExpiredReservations: (now, limit) =>
          releaseExpiredReservations({ db: database.db, blobs }, now, limit),
        sweepOrphans: (olderThan) => sweepOrphans({ db: database.db, storage }, olderThan),
      });
      const result = await lifecycle.runPass();
      if (result.skipped) {
        process.stdout.write('another instance is running a lifecycle pass; nothing done\n');
        return;
      }
      const { skipped: _skipped, duration_ms, ...counts } = result;
      for (const [name, count] of Object.entries(counts)) process.stdout.write(`${name}: ${count}\n`);
      process.stdout.write(`duration_ms: ${duration_ms}\n`);
    } finally {
      if ('close' in events) await events.close();
      await database.close();
    }
  });

  return program;
}

/** Runs the CLI; configuration errors are printed without a stack trace (exit 2). */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  const program = buildCli();
  if (argv.length <= 2) {
    program.outputHelp();
    process.exitCode = 1;
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Invalid configuration:\n${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`elizabeth: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
