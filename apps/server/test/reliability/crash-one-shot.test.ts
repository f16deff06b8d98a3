/**
 * Issue 16 item 14: kill -9 during a one-shot multipart upload used to leave the room's
 * `current_size` over-counted and the partial file on disk until the reservation's TTL (an
 * hour), `elizabeth gc` included. A one-shot upload cannot resume: the restarted server gives
 * its predecessor's unfinished one-shot reservations back at start-up.
 */
import { randomBytes } from 'node:crypto';

import { expect, it } from 'vitest';

import { createDatabase, type Database } from '../../src/db/index.js';
import { describeEachDatabase } from '../support/db.js';
import { multipartChunks, slowRequest } from './http.js';
import { storedFiles } from './invariants.js';
import { runGc, spawnServer, useCrashFixture } from './spawned-server.js';

describeEachDatabase('kill -9 during a one-shot upload', (engine) => {
  let database: Database | undefined;
  const f = useCrashFixture(engine, 'elz-crash-oneshot', {}, async () => {
    await database?.close();
  });

  it('restart + gc: current_size is the stored contents again and the partial file is gone', async () => {
    const server = (f.server = await spawnServer(f.env));
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
          await server.kill();
        }
      },
    });
    await upload;
    expect(killed).toBe(true);

    const db = (database = await createDatabase(f.testDb.config)).db;
    const room = () =>
      db.selectFrom('rooms').select('current_size').where('name', '=', 'crash-one').executeTakeFirstOrThrow();
    // The crash left the reservation and (part of) the file behind.
    expect((await room()).current_size).toBeGreaterThan(0);

    f.server = await spawnServer(f.env, server.port);
    await runGc(f.env);
    expect((await room()).current_size).toBe(0);
    expect(await db.selectFrom('upload_reservations').selectAll().execute()).toEqual([]);
    expect(storedFiles(f.storageRoot).filter((k) => !k.startsWith('.'))).toEqual([]);
  }, 120_000);
});
