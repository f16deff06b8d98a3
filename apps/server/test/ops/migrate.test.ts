/**
 * OPERATIONS.md, "Scripts": migrate_to_postgres.sh (`elizabeth migrate --to`) copies a SQLite
 * deployment into PostgreSQL; with the same storage, the server on PostgreSQL shows the same
 * rooms, contents and bytes, and new rows continue after the copied ids.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { startServer } from '../../src/main.js';
import { createTestDatabase, testDatabaseEngines, type TestDatabase } from '../support/db.js';
import { multipart } from '../support/contents.js';
import { describeWithService } from '../support/services.js';
import { freePort } from '../server/ports.js';
import { runScript, scriptEnv } from './run.js';

const SECRET = 'ops-migrate-test-secret-0123456789abcdefghij';
const postgres = testDatabaseEngines().find((e) => e.engine === 'postgres')!.availability;

describeWithService('PostgreSQL', postgres, 'migrate_to_postgres.sh: SQLite → PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-ops-migrate-'));
  const sqliteFile = join(dir, 'data/elizabeth.db');
  let target: TestDatabase;
  afterAll(async () => {
    await target?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeAll(async () => {
    target = await createTestDatabase('postgres');
  });

  async function serve(databaseUrl: string) {
    const port = await freePort();
    const env = {
      PORT: String(port),
      DATA_DIR: join(dir, 'data'),
      STORAGE_ROOT: join(dir, 'storage'),
      DATABASE_URL: databaseUrl,
      JWT_SECRET: SECRET,
    };
    return startServer(loadConfig({ env, cwd: dir, homeDir: dir }), { logger: pino({ level: 'silent' }) });
  }

  async function view(base: string, token: string) {
    const auth = { authorization: `Bearer ${token}` };
    const room = (await (await fetch(`${base}/api/v1/rooms/ops-move`, { headers: auth })).json()) as Record<
      string,
      unknown
    >;
    delete room.current_times_entered;
    const messages = await (await fetch(`${base}/api/v1/rooms/ops-move/messages`, { headers: auth })).json();
    const contents = (await (
      await fetch(`${base}/api/v1/rooms/ops-move/contents`, { headers: auth })
    ).json()) as Array<{ id: number; content_type: string }>;
    const bytes: string[] = [];
    for (const c of contents.filter((x) => x.content_type === 'file')) {
      const res = await fetch(`${base}/api/v1/contents/${c.id}`, { headers: auth });
      bytes.push(
        createHash('sha256')
          .update(new Uint8Array(await res.arrayBuffer()))
          .digest('hex'),
      );
    }
    return { room, messages, contents, bytes };
  }

  it('copies every row with its id; the server on PostgreSQL shows the same room and bytes', async () => {
    const before = await serve(`sqlite://${sqliteFile}`);
    let token: string;
    let snapshot: Awaited<ReturnType<typeof view>>;
    try {
      const post = (path: string, body: unknown, auth?: string) =>
        fetch(`${before.url}/api/v1${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(auth ? { authorization: `Bearer ${auth}` } : {}),
          },
          body: JSON.stringify(body),
        });
      expect((await post('/rooms/ops-move', { password: 'move-password' })).status).toBe(201);
      token = (
        (await (await post('/rooms/ops-move/tokens', { password: 'move-password' })).json()) as {
          token: string;
        }
      ).token;
      for (const text of ['one', 'two', 'three']) {
        expect((await post('/rooms/ops-move/messages', { text }, token)).status).toBe(201);
      }
      // A one-shot multipart upload on its own connection (no keep-alive).
      const body = multipart([{ name: 'data.bin', content: randomBytes(123_456) }]);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          `${before.url}/api/v1/rooms/ops-move/contents`,
          { method: 'POST', agent: false, headers: { authorization: `Bearer ${token}`, ...body.headers } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body.payload);
      });
      expect(status).toBe(201);
      snapshot = await view(before.url, token);
    } finally {
      await before.close();
    }

    const env = scriptEnv({ ELIZABETH_ENV_FILE: join(dir, 'none.env') });
    const result = await runScript(
      'migrate_to_postgres.sh',
      ['--from', `sqlite://${sqliteFile}`, '--to', target.config.url],
      env,
      {
        timeoutMs: 120_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^rooms: 1$/m);
    expect(result.stdout).toMatch(/^contents: 4$/m);
    expect(result.stdout).not.toContain(new URL(target.config.url).password || '\u0000');

    const after = await serve(target.config.url);
    try {
      expect(await view(after.url, token)).toEqual(snapshot);
      // Sequences continue after the copied ids.
      const res = await fetch(`${after.url}/api/v1/rooms/ops-move/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ text: 'four, on PostgreSQL' }),
      });
      expect(res.status).toBe(201);
      const { message } = (await res.json()) as { message: { id: number } };
      expect(message.id).toBeGreaterThan(Math.max(...snapshot.contents.map((c) => c.id)));
    } finally {
      await after.close();
    }

    const again = await runScript(
      'migrate_to_postgres.sh',
      ['--from', `sqlite://${sqliteFile}`, '--to', target.config.url],
      env,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
  }, 180_000);

  it('refuses a missing source (3) and a non-PostgreSQL target (2)', async () => {
    const env = scriptEnv({ ELIZABETH_ENV_FILE: join(dir, 'none.env') });
    const missing = await runScript(
      'migrate_to_postgres.sh',
      ['--from', 'sqlite:///nonexistent/x.db', '--to', target.config.url],
      env,
    );
    expect(missing.code).toBe(3);
    const wrong = await runScript('migrate_to_postgres.sh', ['--to', 'mysql://x@y/z'], env);
    expect(wrong.code).toBe(2);
    // An unreachable target fails (1) without printing its password.
    const unreachable = await runScript(
      'migrate_to_postgres.sh',
      ['--from', `sqlite://${sqliteFile}`, '--to', 'postgres://user:top-secret-pw@127.0.0.1:1/none'],
      env,
      { timeoutMs: 60_000 },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout + unreachable.stderr).not.toContain('top-secret-pw');
    expect(unreachable.stderr).toContain('postgres://user:***@127.0.0.1:1/none');
  });
});
