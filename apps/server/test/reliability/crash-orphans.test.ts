/**
 * A crash window found by crash.test.ts (seed 99, 10 rounds): a room is deleted while a
 * one-shot upload into it is still streaming; the deletion queues and reaps the upload's key,
 * but the request keeps writing `<key>.partial`. If the process dies then, no row names that
 * file any more, so no lifecycle pass ever removes it: bytes without a row.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDatabase, type Database } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { multipartChunks, slowRequest } from './http.js';
import { expectConsistent, storedFiles } from './invariants.js';
import { runGc, type SpawnedServer, spawnServer } from './spawned-server.js';

describe('kill -9 after a room was deleted under a running upload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-orphan-'));
  const storageRoot = join(dir, 'storage');
  let testDb: TestDatabase;
  let env: Record<string, string>;
  let server: SpawnedServer | undefined;
  let database: Database | undefined;

  beforeAll(async () => {
    mkdirSync(storageRoot, { recursive: true });
    testDb = await createTestDatabase('sqlite');
    env = {
      DATA_DIR: dir,
      STORAGE_ROOT: storageRoot,
      DATABASE_URL: testDb.config.url,
      JWT_SECRET: 'orphan-test-secret-0123456789-abcdefghijklmnop',
      MIDDLEWARE_RATE_LIMIT_ENABLED: 'false',
      WEB_ROOT: join(dir, 'no-web'),
    };
  });
  afterAll(async () => {
    await server?.kill();
    await database?.close();
    await testDb.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no bytes without a row after restart and one lifecycle pass', { timeout: 60_000 }, async () => {
    server = await spawnServer(env);
    const base = server.url;
    await fetch(`${base}/api/v1/rooms/doomed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const entered = await fetch(`${base}/api/v1/rooms/doomed/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const { token } = (await entered.json()) as { token: string };
    const body = multipartChunks('doomed.bin', randomBytes(512 * 1024), 32);
    const upload = slowRequest(`${base}/api/v1/rooms/doomed/contents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': body.contentType },
      chunks: body.chunks,
      delayMs: 20,
      onChunk: async (i) => {
        if (i === 4) {
          const res = await fetch(`${base}/api/v1/rooms/doomed`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${token}` },
          });
          expect(res.status).toBe(200);
        }
        if (i === 12) {
          // The upload is still writing into the deleted room's key when the process dies.
          expect(storedFiles(storageRoot).some((f) => f.endsWith('.partial'))).toBe(true);
          await server!.kill();
        }
      },
    });
    await upload;
    server = await spawnServer(env, server.port);
    await runGc(env);
    database = await createDatabase(testDb.config);
    await expectConsistent(database.db, storageRoot);
  });
});
