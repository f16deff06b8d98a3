import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import pino from 'pino';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import { loggerOptions } from '../../src/lib/logger.js';
import type { Clock } from '../../src/lib/clock.js';
import type { BlobStorage } from '../../src/storage/blob-storage.js';
import { createStorage } from '../../src/storage/index.js';
import { RELAXED_LIMITS_ENV, TEST_JWT_SECRET } from '../support/app.js';
import { createTestDatabase, type DatabaseEngine } from '../support/db.js';

/** Every line the server's logger wrote, as text and parsed. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
      done();
    },
  });

  get text(): string {
    return this.lines.join('\n');
  }

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Entries at level ≥ error (pino: 50). */
  errors(): Array<Record<string, unknown>> {
    return this.entries().filter((e) => Number(e.level) >= 50);
  }
}

export interface LoggedApp {
  app: FastifyInstance;
  config: AppConfig;
  database: Database;
  storage: BlobStorage;
  logs: LogCapture;
  dir: string;
  close(): Promise<void>;
}

export interface LoggedAppOptions {
  engine?: DatabaseEngine;
  configure?: (config: AppConfig) => void;
  /** Wraps the real storage (fault injection). */
  wrapStorage?: (storage: BlobStorage) => BlobStorage;
  level?: pino.Level;
  clock?: Clock;
  /** A database of the test's own (e.g. a private PostgreSQL); else a fresh test database. */
  databaseUrl?: string;
}

/**
 * A real app (real database and local storage in a temp dir) whose logger is the server's own
 * (`createLogger`, with its redaction), at `debug` with request logging on, writing into memory.
 */
export async function createLoggedApp(options: LoggedAppOptions = {}): Promise<LoggedApp> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-sec-'));
  const { config } = loadConfig({
    env: { JWT_SECRET: TEST_JWT_SECRET, WEB_ROOT: join(dir, 'no-web-build'), ...RELAXED_LIMITS_ENV },
    cwd: dir,
    homeDir: dir,
  });
  config.middleware.tracing.enabled = true;
  config.logging.level = options.level ?? 'debug';
  options.configure?.(config);
  const testDb = options.databaseUrl
    ? { config: { ...config.database, url: options.databaseUrl }, cleanup: () => Promise.resolve() }
    : await createTestDatabase(options.engine ?? 'sqlite');
  config.database = testDb.config;
  const database = await createDatabase(config.database);
  await migrateToLatest(database, { backup: false });
  const real = await createStorage(config.storage);
  const storage = options.wrapStorage ? options.wrapStorage(real) : real;
  const logs = new LogCapture();
  // The server's own options (its redaction and serializers), JSON lines into memory.
  const logger = pino({ ...loggerOptions({ ...config.logging, format: 'json' }, false) }, logs.stream);
  const app = await buildApp({
    config,
    database,
    storage,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await app.ready();
  return {
    app,
    config,
    database,
    storage,
    logs,
    dir,
    async close() {
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await database.close();
      await testDb.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
