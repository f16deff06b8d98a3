import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { expect } from 'vitest';

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/types.js';
import { createDatabase, type Database, migrateToLatest } from '../../src/db/index.js';
import type { Clock } from '../../src/lib/clock.js';
import type { RoomEvent } from '../../src/realtime/events.js';
import { MemoryEventBus } from '../../src/realtime/memory-event-bus.js';
import type { BlobStorage } from '../../src/storage/blob-storage.js';
import { createStorage, LocalStorage, type S3Storage } from '../../src/storage/index.js';
import { RELAXED_LIMITS_ENV, TEST_JWT_SECRET } from './app.js';
import { createTestDatabase, type DatabaseEngine } from './db.js';
import { bearer } from './rooms.js';

export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface FilePart {
  name: string;
  content: Buffer;
  type?: string;
  field?: string;
}

/** A multipart/form-data body, as `curl -F file=@x` sends it. */
export function multipart(files: FilePart[], fields: Record<string, string> = {}) {
  const boundary = `----elz${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  for (const file of files) {
    const escaped = file.name.replace(/"/g, '%22').replace(/\r|\n/g, '');
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${escaped}"\r\n` +
          `Content-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** One-shot upload through `app.inject`; returns the response. */
export function uploadOneShot(app: FastifyInstance, room: string, token: string, files: FilePart[]) {
  const body = multipart(files);
  return app.inject({
    method: 'POST',
    url: `/api/v1/rooms/${encodeURIComponent(room)}/contents`,
    headers: { ...bearer(token), ...body.headers },
    payload: body.payload,
  });
}

/**
 * API.md §3: `current_size` equals the sum of the room's content sizes plus what its
 * unconsumed reservations hold, and stays within `0..max_size`.
 */
export async function expectQuotaInvariant(database: Database, roomId: number): Promise<number> {
  const db = database.db;
  const room = await db
    .selectFrom('rooms')
    .select(['current_size', 'max_size'])
    .where('id', '=', roomId)
    .executeTakeFirstOrThrow();
  const contents = await db
    .selectFrom('contents')
    .select(sql<number>`COALESCE(SUM(size), 0)`.as('total'))
    .where('room_id', '=', roomId)
    .executeTakeFirstOrThrow();
  const reserved = await db
    .selectFrom('upload_reservations')
    .select(sql<number>`COALESCE(SUM(reserved_size), 0)`.as('total'))
    .where('room_id', '=', roomId)
    .where('consumed_at', 'is', null)
    .executeTakeFirstOrThrow();
  expect(room.current_size).toBe(Number(contents.total) + Number(reserved.total));
  expect(room.current_size).toBeGreaterThanOrEqual(0);
  expect(room.current_size).toBeLessThanOrEqual(room.max_size);
  return room.current_size;
}

export interface ContentsTestApp {
  app: FastifyInstance;
  config: AppConfig;
  database: Database;
  storage: BlobStorage;
  events: RoomEvent[];
  dir: string;
  /** Closes the app only; database and storage stay for a second app (restart tests). */
  closeApp(): Promise<void>;
  /** A new app on the same database and storage, as after a server restart. */
  restart(): Promise<ContentsTestApp>;
  close(): Promise<void>;
}

export interface ContentsTestOptions {
  engine?: DatabaseEngine;
  clock?: Clock;
  env?: Record<string, string>;
  configure?: (config: AppConfig) => void;
  /** S3 settings (endpoint, bucket, keys) to use the s3 backend; local storage otherwise. */
  s3?: AppConfig['storage']['s3'];
  /** Runs on each app built (also on `restart()`) before it is ready: hooks a test needs. */
  beforeReady?: (app: FastifyInstance) => void;
}

/**
 * Like `createTestApp`, with the storage backend chosen by the test, the published events
 * collected, and a `restart()` that builds a second app on the same database and storage.
 */
export async function createContentsApp(options: ContentsTestOptions = {}): Promise<ContentsTestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-contents-'));
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
  if (options.s3) {
    config.storage.backend = 's3';
    config.storage.s3 = options.s3;
  }
  const testDb = await createTestDatabase(options.engine ?? 'sqlite');
  config.database = testDb.config;
  const database = await createDatabase(config.database);
  await migrateToLatest(database, { backup: false });
  const storage = await createStorage(config.storage);
  await storage.check();

  const build = async (): Promise<ContentsTestApp> => {
    const bus = new MemoryEventBus();
    const events: RoomEvent[] = [];
    bus.subscribe((event) => events.push(event));
    const app = await buildApp({
      config,
      database,
      storage,
      events: bus,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    options.beforeReady?.(app);
    await app.ready();
    let closed = false;
    const closeApp = async () => {
      if (closed) return;
      closed = true;
      // Tests close between requests; a keep-alive socket a client left open must not hold
      // the close for the server's keep-alive timeout.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    };
    return {
      app,
      config,
      database,
      storage,
      events,
      dir,
      closeApp,
      restart: async () => {
        await closeApp();
        return build();
      },
      close: async () => {
        await closeApp();
        await database.close();
        await testDb.cleanup();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
  return build();
}

/** Listens on 127.0.0.1 on a free port; returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * Everything the storage holds whose key starts with `prefix` ('' for all): files (with
 * temporary and tus bookkeeping files) on disk; objects and open multipart uploads in S3.
 */
export async function storedUnder(
  t: Pick<ContentsTestApp, 'storage' | 'config'>,
  prefix = '',
): Promise<string[]> {
  if (t.storage instanceof LocalStorage) {
    const root = t.storage.root;
    return (await filesUnder(root)).map((f) => relative(root, f)).filter((k) => k.startsWith(prefix));
  }
  const s3 = t.storage as S3Storage;
  const { bucket } = t.config.storage.s3;
  const base = t.config.storage.s3.prefix + prefix;
  const objects = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: base }));
  const uploads = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: base }));
  return [
    ...(objects.Contents ?? []).map((o) => o.Key ?? ''),
    ...(uploads.Uploads ?? []).map((u) => `open multipart upload: ${u.Key ?? ''}`),
  ];
}

/**
 * POSTs a streamed body of known length through node:http (fetch would buffer nothing either,
 * but cannot set Content-Length on a stream), for uploads too large to hold in memory.
 */
export function postStream(
  url: string,
  headers: Record<string, string>,
  body: Readable,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    pipeline(body, req).catch(reject);
  });
}
