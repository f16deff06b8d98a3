/**
 * Issue 16 item 14: kill -9 during a one-shot multipart upload used to leave the room's
 * `current_size` over-counted and the partial file on disk until the reservation's TTL (an
 * hour), `elizabeth gc` included. A one-shot upload cannot resume: the restarted server gives
 * its predecessor's unfinished one-shot reservations back at start-up.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createDatabase, type Database } from '../../src/db/index.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/db.js';
import { multipartChunks, slowRequest } from './http.js';
import { storedFiles } from './invariants.js';
import { runGc, type SpawnedServer, spawnServer } from './spawned-server.js';

const JWT_SECRET = 'crash-one-shot-secret-0123456789-abcdefghijkl';

describeEachDatabase('kill -9 during a one-shot upload', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), `elz-crash-oneshot-${engine}-`));
  const storageRoot = join(dir, 'storage');
  let testDb: TestDatabase;
  let database: Database;
  let env: Record<string, string>;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    mkdirSync(storageRoot, { recursive: true });
    testDb = await createTestDatabase(engine);
    env = {
      DATA_DIR: dir,
      STORAGE_ROOT: storageRoot,
      DATABASE_URL: testDb.config.url,
      JWT_SECRET,
      GC_INTERVAL_SECONDS: '3600',
      WEB_ROOT: join(dir, 'no-web'),
    };
  });
  afterAll(async () => {
    await server?.kill();
    await database?.close();
    await testDb?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restart + gc: current_size is the stored contents again and the partial file is gone', async () => {
    server = await spawnServer(env);
    const api = `${server.url}/api/v1`;
    const post = async (path: string, body: unknown) =>
      fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/rooms/crash-one', {})).status).toBe(201);
    const { token } = (await (await post('/rooms/crash-one/tokens', {})).json()) as { token: string };

    const content = randomBytes(8 * 1024 * 1024);
    const { chunks, contentType } = multipartChunks('big.bin', content, 64);
    let killed = false;
    const upload = slowRequest(`${api}/rooms/crash-one/contents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      chunks,
      delayMs: 20,
      onChunk: async (i) => {
        if (i === 24 && !killed) {
          killed = true;
          await server!.kill();
        }
      },
    });
    await upload;
    expect(killed).toBe(true);

    database = await createDatabase(testDb.config);
    const room = () =>
      database.db
        .selectFrom('rooms')
        .select('current_size')
        .where('name', '=', 'crash-one')
        .executeTakeFirstOrThrow();
    // The crash left the reservation and (part of) the file behind.
    expect((await room()).current_size).toBeGreaterThan(0);

    server = await spawnServer(env, server.port);
    await runGc(env);
    expect((await room()).current_size).toBe(0);
    expect(await database.db.selectFrom('upload_reservations').selectAll().execute()).toEqual([]);
    expect(storedFiles(storageRoot).filter((k) => !k.startsWith('.'))).toEqual([]);
  }, 120_000);
});
