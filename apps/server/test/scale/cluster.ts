import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import type { BlobStorage } from '../../src/storage/blob-storage.js';
import { createStorage } from '../../src/storage/index.js';
import { freePort } from '../server/ports.js';
import { RELAXED_LIMITS_ENV, TEST_JWT_SECRET } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testDatabaseEngines } from '../support/db.js';
import { startS3, type TestS3 } from '../support/s3.js';
import type { ServiceAvailability } from '../support/services.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../../../..');

/** Needs PostgreSQL (ELIZABETH_TEST_DATABASE_URL), Redis (ELIZABETH_TEST_REDIS_URL) and a redis-server binary. */
export function clusterAvailability(): ServiceAvailability {
  if (!process.env.ELIZABETH_TEST_REDIS_URL) {
    return { available: false, reason: 'ELIZABETH_TEST_REDIS_URL is not set' };
  }
  if (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status !== 0) {
    return { available: false, reason: 'no redis-server binary to run a private Redis' };
  }
  return testDatabaseEngines().find((e) => e.engine === 'postgres')!.availability;
}

/** A client address the instances trust from loopback (`X-Forwarded-For`), new for each call. */
export const randomClient = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

export interface Instance {
  index: number;
  base: string;
  wsUrl: string;
  /** In-process instances only. */
  app?: FastifyInstance;
  /** Child-process instances only. */
  child?: ChildProcess;
  alive: boolean;
  /** SIGKILL for a child process: no hooks, no lock release, sockets cut. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export interface Cluster {
  instances: Instance[];
  config: AppConfig;
  storage: BlobStorage;
  s3?: TestS3;
  database: Database;
  prefix: string;
  close(): Promise<void>;
}

export interface ClusterOptions {
  count: number;
  /** Indexes of the instances that run in their own process (killable). */
  childProcesses?: number[];
  storage: 's3' | 'local';
  configure?: (config: AppConfig) => void;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/**
 * N instances of the server on one PostgreSQL database, one private Redis (its own
 * redis-server on a free port) and one blob store: s3rver, or a directory all instances share.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-scale-'));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    cleanups.push(() => stopProcess(redis));
    const testDb: TestDatabase = await createTestDatabase('postgres');
    cleanups.push(() => testDb.cleanup());
    const s3 = options.storage === 's3' ? await startS3() : undefined;
    if (s3) cleanups.push(() => s3.close());

    const { config } = loadConfig({
      env: {
        JWT_SECRET: TEST_JWT_SECRET,
        WEB_ROOT: join(dir, 'no-web'),
        STORAGE_ROOT: join(dir, 'shared'),
        ...RELAXED_LIMITS_ENV,
      },
      cwd: dir,
      homeDir: dir,
    });
    mkdirSync(join(dir, 'shared'), { recursive: true });
    config.database = testDb.config;
    config.realtime.redis_url = `redis://127.0.0.1:${redisPort}`;
    config.realtime.ping_interval_seconds = 0.5;
    // Clients are told apart by X-Forwarded-For (the test sends from loopback).
    config.middleware.trusted_proxies = ['loopback'];
    if (s3) {
      config.storage.backend = 's3';
      config.storage.s3 = s3.settings;
    }
    options.configure?.(config);

    const database = await createDatabase(config.database);
    cleanups.push(() => database.close());
    await migrateToLatest(database, { backup: false });
    const storage = await createStorage(config.storage);
    const prefix = `elz-scale-${randomBytes(6).toString('hex')}`;

    const instances: Instance[] = [];
    for (let index = 0; index < options.count; index += 1) {
      const instance = options.childProcesses?.includes(index)
        ? await startChild(index, config, prefix)
        : await startInProcess(index, config, prefix);
      instances.push(instance);
      cleanups.push(() => instance.close());
    }
    return { instances, config, storage, ...(s3 ? { s3 } : {}), database, prefix, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startInProcess(index: number, config: AppConfig, prefix: string): Promise<Instance> {
  const database = await createDatabase(config.database);
  const storage = await createStorage(config.storage);
  const app = await buildApp({ config, database, storage, realtimePrefix: prefix });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('not listening');
  const base = `http://127.0.0.1:${address.port}`;
  const instance: Instance = {
    index,
    base,
    wsUrl: `${base.replace(/^http/, 'ws')}/api/v1/ws`,
    app,
    alive: true,
    async kill() {
      await instance.close();
    },
    async close() {
      if (!instance.alive) return;
      instance.alive = false;
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await database.close();
    },
  };
  return instance;
}

async function startChild(index: number, config: AppConfig, prefix: string): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'instance.ts')],
    {
      cwd: repoRoot,
      env: { ...process.env, ELZ_SCALE_CONFIG: JSON.stringify(config), ELZ_SCALE_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${index} did not start: ${stderr}`)), 30_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /LISTENING (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance ${index} exited with ${code}: ${stderr}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const instance: Instance = {
    index,
    base,
    wsUrl: `${base.replace(/^http/, 'ws')}/api/v1/ws`,
    child,
    alive: true,
    async kill() {
      instance.alive = false;
      await stopProcess(child, 'SIGKILL');
    },
    async close() {
      instance.alive = false;
      await stopProcess(child, 'SIGKILL');
    },
  };
  return instance;
}

/** Real HTTP to one instance, as client `ip` (a new address per call unless given). */
export class Client {
  constructor(
    readonly instance: Instance,
    readonly token?: string,
    readonly ip?: string,
  ) {}

  as(instance: Instance): Client {
    return new Client(instance, this.token, this.ip);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'x-forwarded-for': this.ip ?? randomClient(),
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  fetch(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    return fetch(`${this.instance.base}${path}`, { ...init, headers: this.headers(init.headers) });
  }

  /** A JSON request; throws with the body when the status is not `expected`. */
  async json<T>(method: string, path: string, body: unknown, expected: number): Promise<T> {
    const res = await this.fetch(path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (res.status !== expected) {
      throw new Error(`instance ${this.instance.index}: ${method} ${path}: ${res.status} ${text}`);
    }
    return JSON.parse(text) as T;
  }

  async tusCreate(room: string, size: number, name: string): Promise<string> {
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    const res = await this.fetch(`/api/v1/rooms/${encodeURIComponent(room)}/uploads`, {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-length': String(size),
        'upload-metadata': `filename ${b64(name)},filetype ${b64('application/octet-stream')}`,
      },
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`tus create: ${res.status} ${text}`);
    return new URL(res.headers.get('location')!, this.instance.base).pathname;
  }

  async tusPatch(path: string, offset: number, bytes: Buffer): Promise<number> {
    const res = await this.fetch(path, {
      method: 'PATCH',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
      },
      body: bytes,
    });
    const text = await res.text();
    if (res.status !== 204)
      throw new Error(`instance ${this.instance.index}: tus PATCH ${res.status} ${text}`);
    return Number(res.headers.get('upload-offset'));
  }

  async tusHead(path: string): Promise<{ status: number; offset: number }> {
    const res = await this.fetch(path, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
    return { status: res.status, offset: Number(res.headers.get('upload-offset') ?? NaN) };
  }

  /**
   * A PATCH announcing `announced.length` bytes that sends only the first `sent` and then
   * stalls, as a client on a broken connection would. Resolves with how the request ended
   * (`status`, or `error` when the connection was cut); `abort()` drops it from this side.
   */
  stalledPatch(path: string, offset: number, announced: Buffer, sent: number) {
    const req = request(`${this.instance.base}${path}`, {
      method: 'PATCH',
      headers: this.headers({
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(announced.length),
      }),
    });
    const ended = new Promise<{ status?: number; error?: string }>((resolve) => {
      req.on('error', (error) => resolve({ error: error.message }));
      req.on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      });
    });
    req.write(announced.subarray(0, sent));
    return { ended, abort: () => req.destroy() };
  }
}
