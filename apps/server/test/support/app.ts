import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import type { Clock } from '../../src/lib/clock.js';
import type { PasswordHasher } from '../../src/lib/password.js';
import { LocalStorage } from '../../src/storage/index.js';
import { createTestDatabase } from './db.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/**
 * The shipped defaults limit requests, room creation and connections per client address; tests
 * drive the API from one address far faster than a person, so the helpers lift these unless a
 * test sets them (test/security/abuse-defaults.test.ts checks the defaults themselves).
 */
export const RELAXED_LIMITS_ENV: Readonly<Record<string, string>> = {
  MIDDLEWARE_RATE_LIMIT_ENABLED: 'false',
  ROOM_CREATION_LIMIT_MAX: '0',
  // Crowd tests open hundreds of sockets from 127.0.0.1.
  MAX_CONNECTIONS_PER_CLIENT: '1000000',
  REALTIME_MAX_CONNECTIONS_PER_CLIENT: '1000000',
};

export interface TestApp {
  app: FastifyInstance;
  config: AppConfig;
  database: Database;
  dir: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  engine?: 'sqlite' | 'postgres';
  /** Short env names (as in .env.docker) applied on top of the defaults. */
  env?: Record<string, string>;
  /** Last word on the config, after env. */
  configure?: (config: AppConfig) => void;
  clock?: Clock;
  /** Hashes and verifies room passwords (tests read its counts). */
  passwords?: PasswordHasher;
  /** Adds test-only routes before the app is sealed. */
  extend?: (app: FastifyInstance) => void | Promise<void>;
}

/**
 * A real app on a real database (SQLite temp file or a fresh PostgreSQL database), storage in
 * a temp directory, no web build (unless the test points `web_root` at one).
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-app-'));
  const { config } = loadConfig({
    env: {
      JWT_SECRET: TEST_JWT_SECRET,
      WEB_ROOT: join(dir, 'no-web-build'),
      ...RELAXED_LIMITS_ENV,
      ...options.env,
    },
    cwd: dir,
    homeDir: dir,
  });
  options.configure?.(config);
  const testDb = await createTestDatabase(options.engine ?? 'sqlite');
  config.database = testDb.config;
  const database = await createDatabase(config.database);
  await migrateToLatest(database, { backup: false });
  const storage = new LocalStorage(config.storage.root);
  const app = await buildApp({
    config,
    database,
    storage,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.passwords ? { passwords: options.passwords } : {}),
  });
  await options.extend?.(app);
  await app.ready();
  return {
    app,
    config,
    database,
    dir,
    async close() {
      await app.close();
      await database.close();
      await testDb.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
