import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll } from 'vitest';

import { createTestDatabase, type DatabaseEngine, type TestDatabase } from '../support/db.js';

import { freePort } from '../server/ports.js';
import { RELAXED_LIMITS_ENV } from '../support/app.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));
const source = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const serverDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How the real server is started: the TypeScript sources through tsx (what `bin/elizabeth.js`
 * does in a checkout without a build) so the test always runs the code under test; with
 * `ELIZABETH_SPAWN_BUILT=1`, `bin/elizabeth.js` itself (the built `dist`).
 */
function command(args: string[]): string[] {
  if (process.env.ELIZABETH_SPAWN_BUILT === '1') return [bin, ...args];
  return ['--conditions=source', '--import', import.meta.resolve('tsx'), source, ...args];
}

export interface SpawnedServer {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and wait for the exit. */
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/** Starts `elizabeth serve` with these env settings on a free port; resolves once /health answers. */
export async function spawnServer(env: Record<string, string>, port?: number): Promise<SpawnedServer> {
  const chosen = port ?? (await freePort());
  const child = spawn(process.execPath, command(['serve']), {
    cwd: serverDir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: env.DATA_DIR ?? serverDir,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
      LISTEN_ADDR: '127.0.0.1',
      PORT: String(chosen),
      ...RELAXED_LIMITS_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${out}`);
    try {
      const res = await fetch(`${url}/api/v1/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become healthy: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: chosen,
    child,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** Runs `elizabeth gc` (one lifecycle pass) with the same settings; returns its stdout. */
export async function runGc(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, command(['gc']), {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: env.DATA_DIR ?? serverDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`elizabeth gc exited with ${code}: ${out}`);
  return out;
}

export interface CrashFixture {
  /** The data directory; storage in `storageRoot` under it. */
  dir: string;
  storageRoot: string;
  /** The server's settings (set in `beforeAll`). */
  env: Record<string, string>;
  testDb: TestDatabase;
  /** The running server, if any: killed after the suite. */
  server?: SpawnedServer;
}

/**
 * A data directory, a fresh database of `engine` and the env of a spawned server on them, made
 * before the suite's tests and removed after them (the server, if still running, killed first).
 */
export function useCrashFixture(
  engine: DatabaseEngine,
  prefix: string,
  extraEnv: Record<string, string> = {},
  cleanup?: () => Promise<void>,
): CrashFixture {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-${engine}-`));
  const fixture = { dir, storageRoot: join(dir, 'storage'), env: {} } as CrashFixture;
  beforeAll(async () => {
    mkdirSync(fixture.storageRoot, { recursive: true });
    fixture.testDb = await createTestDatabase(engine);
    fixture.env = {
      DATA_DIR: dir,
      STORAGE_ROOT: fixture.storageRoot,
      DATABASE_URL: fixture.testDb.config.url,
      JWT_SECRET: `${prefix}-secret-0123456789-abcdefghijklmnop`,
      GC_INTERVAL_SECONDS: '3600',
      WEB_ROOT: join(dir, 'no-web'),
      ...extraEnv,
    };
  });
  afterAll(async () => {
    await fixture.server?.kill();
    await cleanup?.();
    await fixture.testDb?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return fixture;
}
