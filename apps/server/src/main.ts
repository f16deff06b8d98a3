import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { buildApp } from './app.js';
import { type LoadedConfig, redactConfig, resolveJwtSecret } from './config/index.js';
import type { AppConfig } from './config/types.js';
import { createDatabase, migrateToLatest } from './db/index.js';
import { Scheduler } from './jobs/scheduler.js';
import { collectBeforeNextTrim, scheduleHeapTrim } from './lib/heap-trim.js';
import { createLogger } from './lib/logger.js';
import { createStorage } from './storage/index.js';

export interface RunningServer {
  app: FastifyInstance;
  config: AppConfig;
  url: string;
  logger: Logger;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

/** After listening: late start-up work (the first timers, compiler threads) is done by then. */
const STARTUP_TRIM_DELAY_MS = 1000;

/** Process entry: config → logger → secret → database → storage → app → listen. */
export async function startServer(
  loaded: LoadedConfig,
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(loaded.config.logging);
  logger.info({ config: redactConfig(loaded.config), configFile: loaded.configFile }, 'configuration loaded');

  if (loaded.sources['app.jwt.secret']?.kind === 'flag') {
    logger.warn(
      '--jwt-secret puts the JWT secret on the command line, where every local user can read it ' +
        '(ps, /proc/<pid>/cmdline): use JWT_SECRET_FILE=<file readable only by the server>, ' +
        'JWT_SECRET in an environment file of mode 0600, or no secret at all (one is generated ' +
        'once into <data_dir>/jwt-secret, mode 0600)',
    );
  }
  const jwt = await resolveJwtSecret(loaded.config, { logger: { info: (msg: string) => logger.info(msg) } });
  const config: AppConfig = { ...loaded.config, jwt: { ...loaded.config.jwt, secret: jwt.secret } };

  const database = await createDatabase(config.database, { logger });
  try {
    const migrated = await migrateToLatest(database, { logger });
    if (migrated.applied.length > 0) {
      logger.info({ applied: migrated.applied, backup: migrated.backupFile }, 'database migrated');
    }
    const storage = await createStorage(config.storage);
    await storage.check();

    const app = await buildApp({ config, database, storage, logger });
    await app.listen({ host: config.server.addr, port: config.server.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.server.port;
    const host = config.server.addr.includes(':') ? `[${config.server.addr}]` : config.server.addr;
    const url = `http://${host}:${port}`;
    logger.info(`Elizabeth listening on ${url} (API docs: ${url}/api/v1/scalar)`);
    // Listening proves no other live process has this owner: its predecessor's one-shot
    // uploads cannot finish any more.
    const abandoned = await app.releaseAbandonedUploads();
    if (abandoned > 0)
      logger.warn({ released: abandoned }, 'released the unfinished one-shot uploads of the previous run');

    const scheduler = new Scheduler(logger);
    scheduler.add({
      id: 'room_lifecycle',
      intervalMs: config.gc.interval_seconds * 1000,
      run: () => app.lifecycle.runPass(),
    });
    // The pass cleans tokens too; this keeps them bounded when passes are configured rarely.
    scheduler.add({
      id: 'auth_token_cleanup',
      intervalMs: config.jwt.cleanup_interval_seconds * 1000,
      run: () => app.lifecycle.cleanupAuth(),
    });
    scheduler.start();
    // Start-up is over: what it freed on the C heap goes back to the system (idle RSS).
    // A full collection first: idle RSS 30 s after start 79.4–79.7 → 79.2–79.4 MB (four pairs).
    collectBeforeNextTrim();
    scheduleHeapTrim(STARTUP_TRIM_DELAY_MS);

    let closing: Promise<void> | undefined;
    return {
      app,
      config,
      url,
      logger,
      close: () => {
        closing ??= (async () => {
          await scheduler.stop();
          // In-flight requests get CLOSE_GRACE_MS to finish; then every connection still open
          // (a keep-alive socket Node does not see as idle, a stalled upload) is cut, so a
          // shutdown never waits for the 72 s keep-alive timeout. tus uploads resume later.
          const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
          force.unref();
          try {
            await app.close();
          } finally {
            clearTimeout(force);
          }
          await database.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** How long a shutdown waits for in-flight requests before it closes their connections. */
export const CLOSE_GRACE_MS = 5_000;

/** Closes the server on SIGTERM/SIGINT; a second signal or a stuck close exits at once. */
export function closeOnSignals(server: RunningServer, graceMs = 10_000): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    server.logger.info(`${signal} received: shutting down`);
    const timer = setTimeout(() => {
      server.logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
