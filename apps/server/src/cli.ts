import { Command, Option } from 'commander';

import {
  type AppConfig,
  type CliOverrides,
  ConfigError,
  formatConfigReport,
  loadConfig,
  redactUrl,
} from './config/index.js';
import { registerClientCommands } from './client/commands.js';
import { copyDatabase } from './db/copy.js';
import { createDatabase, listMigrations, migrateToLatest } from './db/index.js';
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

/**
 * `elizabeth migrate --to <url>`: copies every row of the configured database into another,
 * empty one (typically SQLite → PostgreSQL) with the same ids, in one transaction, then checks
 * the row counts. Stored files are not touched: they are addressed by keys in the rows.
 */
async function migrateTo(
  from: AppConfig['database'],
  toUrl: string,
  print: (line: string) => void,
): Promise<void> {
  const source = await createDatabase(from);
  const target = await createDatabase({ ...from, url: toUrl });
  try {
    await migrateToLatest(source);
    await migrateToLatest(target);
    for (const [table, rows] of await copyDatabase(source, target)) print(`${table}: ${rows}`);
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
      await migrateTo(config.database, options.to, (line) => process.stdout.write(`${line}\n`));
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

  registerClientCommands(program);
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
