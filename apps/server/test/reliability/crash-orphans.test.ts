/**
 * A crash window found by crash.test.ts (seed 99, 10 rounds): a room is deleted while a
 * one-shot upload into it is still streaming; the deletion queues and reaps the upload's key,
 * but the request keeps writing `<key>.partial`. If the process dies then, the queued deletion
 * must remove it. The narrower window — the room deleted between the upload recording its key
 * and opening its file, the queue drained in between — is closed by the orphan sweep: after a
 * restart the first lifecycle pass removes bytes that no row names and that are older than one
 * reservation TTL (races.test.ts shows that an upload whose reservation is gone writes nothing).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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
    // What the narrower window leaves: a write whose reservation was gone before it began, and
    // a tus upload whose row was lost. Nothing names them.
    const unnamed = [`rooms/1/${randomUUID()}.partial`, `tus/${randomBytes(16).toString('hex')}`];
    for (const name of unnamed) {
      mkdirSync(dirname(join(storageRoot, name)), { recursive: true });
      writeFileSync(join(storageRoot, name), randomBytes(1024));
    }
    server = await spawnServer(env, server.port);
    // Older than one reservation TTL (1 s here), so the sweep may take them.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await runGc({ ...env, UPLOAD_RESERVATION_TTL_SECONDS: '1' })).toMatch(/^orphans_deleted: 2$/m);
    database = await createDatabase(testDb.config);
    await expectConsistent(database.db, storageRoot);
  });
});
