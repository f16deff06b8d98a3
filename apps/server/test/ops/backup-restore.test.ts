/**
 * OPERATIONS.md, "Scripts": backup → wipe → restore on a running server gives back the same
 * rooms, contents and file bytes. The server is a real `elizabeth serve` process that
 * restore.sh stops and starts (ELIZABETH_STOP_CMD / ELIZABETH_START_CMD, as for a deployment
 * without Docker); messages keep arriving while backup.sh runs, and the restored database is
 * consistent (SQLite backup API / pg_dump).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { RELAXED_LIMITS_ENV } from '../support/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../server/ports.js';
import { ROOT, run, runScript, scriptEnv } from './run.js';

const SECRET = 'ops-backup-test-secret-0123456789abcdefghij';
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

interface RoomSnapshot {
  room: Record<string, unknown>;
  messages: unknown[];
  contents: Array<Record<string, unknown>>;
  files: Record<string, string>;
}

describeEachDatabase('backup.sh → wipe → restore.sh on a running server', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), `elz-ops-${engine}-`));
  const data = join(dir, 'data');
  const storage = join(dir, 'storage');
  const pidFile = join(dir, 'server.pid');
  let database: TestDatabase;
  let base: string;
  let env: NodeJS.ProcessEnv;
  const tokens = new Map<string, string>();

  const startCmd = `cd '${dir}' || exit 1; nohup '${process.execPath}' '${join(ROOT, 'apps/server/bin/elizabeth.js')}' serve < /dev/null >> server.log 2>&1 & echo $! > '${pidFile}'`;
  const stopCmd = `pid=$(cat '${pidFile}'); kill "$pid"; for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done; kill -9 "$pid"`;

  async function shell(command: string): Promise<void> {
    const result = await run('bash', ['-c', command], { env });
    expect(result.code, result.stderr).toBe(0);
  }
  async function waitHealthy(): Promise<void> {
    for (let i = 0; i < 150; i += 1) {
      try {
        if ((await fetch(`${base}/api/v1/health`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not start: ${readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000)}`);
  }
  async function api(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${base}/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }
  async function json<T>(res: Response, status: number): Promise<T> {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    return JSON.parse(text) as T;
  }
  async function makeRoom(name: string, password?: string): Promise<string> {
    await json(await api('POST', `/rooms/${name}`, password ? { password } : {}), 201);
    const { token } = await json<{ token: string }>(
      await api('POST', `/rooms/${name}/tokens`, password ? { password } : {}),
      200,
    );
    tokens.set(name, token);
    return token;
  }
  async function upload(room: string, name: string, bytes: Buffer): Promise<void> {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    const res = await fetch(`${base}/api/v1/rooms/${room}/contents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.get(room)}` },
      body: form,
    });
    await json(res, 201);
  }
  /** Everything a visitor of the room can see, plus the bytes of every file. */
  async function snapshot(room: string): Promise<RoomSnapshot> {
    const token = tokens.get(room)!;
    const view = await json<Record<string, unknown>>(
      await api('GET', `/rooms/${room}`, undefined, token),
      200,
    );
    const { current_times_entered: _entered, ...roomView } = view;
    const messages = await json<{ items: unknown[] }>(
      await api('GET', `/rooms/${room}/messages?limit=100`, undefined, token),
      200,
    );
    const contents = await json<Array<Record<string, unknown>>>(
      await api('GET', `/rooms/${room}/contents`, undefined, token),
      200,
    );
    const files: Record<string, string> = {};
    for (const c of contents) {
      if (c.content_type !== 'file' && c.content_type !== 'image') continue;
      const res = await api('GET', `/contents/${String(c.id)}`, undefined, token);
      expect(res.status).toBe(200);
      files[String(c.id)] = sha256(new Uint8Array(await res.arrayBuffer()));
    }
    return { room: roomView, messages: messages.items, contents, files };
  }

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    mkdirSync(data, { recursive: true });
    mkdirSync(join(storage, 'rooms'), { recursive: true });
    mkdirSync(join(dir, 'config'), { recursive: true });
    writeFileSync(join(dir, 'config/backend.yaml'), 'app:\n  logging: { level: warn }\n');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const dbUrl = engine === 'sqlite' ? `sqlite://${join(data, 'elizabeth.db')}` : database.config.url;
    env = scriptEnv({
      // the server; the writer below posts as fast as it can, which the default rate limit would
      // refuse (that limit is tested in security/abuse-defaults.test.ts)
      ...RELAXED_LIMITS_ENV,
      HOME: dir,
      PORT: String(port),
      LISTEN_ADDR: '127.0.0.1',
      DATA_DIR: data,
      STORAGE_ROOT: join(storage, 'rooms'),
      DATABASE_URL: dbUrl,
      JWT_SECRET: SECRET,
      CONFIG_FILE: join(dir, 'config/backend.yaml'),
      LOG_LEVEL: 'warn',
      // the scripts
      ELIZABETH_ENV_FILE: join(dir, 'none.env'),
      ELIZABETH_DATA_DIR: data,
      ELIZABETH_STORAGE_DIR: storage,
      ELIZABETH_BACKEND_CONFIG: join(dir, 'config/backend.yaml'),
      BACKUP_DIR: join(dir, 'backups'),
      ELIZABETH_START_CMD: startCmd,
      ELIZABETH_STOP_CMD: stopCmd,
      ELIZABETH_HEALTH_URL: `${base}/api/v1/health`,
    });
    await shell(startCmd);
    await waitHealthy();
  });

  afterAll(async () => {
    await run('bash', ['-c', `[ -f '${pidFile}' ] && kill -9 $(cat '${pidFile}') 2>/dev/null; true`]);
    await database?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives back the same rooms, messages, contents and bytes', async () => {
    await makeRoom('ops-alpha', 'alpha-password');
    await makeRoom('ops-beta');
    await makeRoom('ops-busy');
    const alpha = tokens.get('ops-alpha')!;
    for (const text of ['first **message**', 'second message with ünïcode ✓']) {
      await json(await api('POST', '/rooms/ops-alpha/messages', { text }, alpha), 201);
    }
    await json(
      await api(
        'POST',
        '/rooms/ops-alpha/contents/url',
        { url: 'https://example.com/page', name: 'Example page' },
        alpha,
      ),
      201,
    );
    await upload('ops-alpha', 'report.bin', randomBytes(300_000));
    await upload('ops-beta', 'photo.png', randomBytes(70_000));
    await upload('ops-beta', 'empty.txt', Buffer.alloc(0));

    const before = { alpha: await snapshot('ops-alpha'), beta: await snapshot('ops-beta') };
    expect(Object.keys(before.alpha.files)).toHaveLength(1);
    expect(Object.keys(before.beta.files)).toHaveLength(2);

    // Writes keep coming while the backup runs: the copy must still be consistent.
    let writing = true;
    let written = 0;
    const busy = tokens.get('ops-busy')!;
    const writer = (async () => {
      while (writing) {
        const res = await api('POST', '/rooms/ops-busy/messages', { text: `busy ${written}` }, busy);
        expect(res.status).toBe(201);
        written += 1;
      }
    })();
    const backup = await runScript('backup.sh', [], env, { timeoutMs: 120_000 });
    writing = false;
    await writer;
    expect(backup.code, backup.stderr).toBe(0);
    expect(written).toBeGreaterThan(0);
    const name = backup.stdout.trim().split('\n').pop()!;
    const files = readdirSync(join(dir, 'backups'));
    if (engine === 'postgres') expect(files).toContain(`${name}_database.sql.gz`);
    else expect(files).not.toContain(`${name}_database.sql.gz`);

    // Wipe: stop, delete every file and table, start on the empty deployment.
    await shell(stopCmd);
    rmSync(data, { recursive: true, force: true });
    rmSync(storage, { recursive: true, force: true });
    mkdirSync(data);
    mkdirSync(join(storage, 'rooms'), { recursive: true });
    if (engine === 'postgres') {
      const client = new Client({ connectionString: database.config.url });
      await client.connect();
      await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      await client.end();
    }
    await shell(startCmd);
    await waitHealthy();
    expect((await api('GET', '/rooms/ops-alpha/contents', undefined, alpha)).status).not.toBe(200);
    expect(readdirSync(join(storage, 'rooms'))).toEqual([]);

    // Restore: stops the server, swaps the data in, starts it, waits for health.
    const restore = await runScript('restore.sh', ['--yes', name], env, { timeoutMs: 120_000 });
    expect(restore.code, restore.stderr + restore.stdout).toBe(0);
    expect(restore.stderr).toContain(`restored ${name}`);

    // The tokens issued before the backup still work: sessions came back too.
    expect(await snapshot('ops-alpha')).toEqual(before.alpha);
    expect(await snapshot('ops-beta')).toEqual(before.beta);
    const busyMessages = await json<{ items: Array<{ text: string }> }>(
      await api('GET', '/rooms/ops-busy/messages?limit=100', undefined, busy),
      200,
    );
    expect(busyMessages.items.length).toBeLessThanOrEqual(written);
    expect(new Set(busyMessages.items.map((m) => m.text)).size).toBe(busyMessages.items.length);
  }, 180_000);
});
