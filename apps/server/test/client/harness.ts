/**
 * Runs the terminal client (`elizabeth push|pull|…`) as a separate process against a real
 * server started with `spawnServer`: the TypeScript sources through tsx, or the built
 * `bin/elizabeth.js` with `ELIZABETH_SPAWN_BUILT=1` (as the reliability tests do), or a given
 * `entry` script.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));
const source = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

function command(args: string[], entry?: string): string[] {
  if (entry !== undefined) return [entry, ...args];
  if (process.env.ELIZABETH_SPAWN_BUILT === '1') return [bin, ...args];
  return ['--conditions=source', '--import', import.meta.resolve('tsx'), source, ...args];
}

export const JWT_SECRET = 'client-test-secret-0123456789-abcdefghijklmnop';

/** The server settings of the client tests: SQLite and local storage in `dir`. */
export function serverEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dir,
    STORAGE_ROOT: join(dir, 'storage'),
    DATABASE_URL: `sqlite://${join(dir, 'elizabeth.db')}`,
    JWT_SECRET,
    MIDDLEWARE_RATE_LIMIT_ENABLED: 'false',
    GC_INTERVAL_SECONDS: '3600',
    WEB_ROOT: join(dir, 'no-web'),
    ...extra,
  };
}

export interface ClientRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface ClientProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout has a line matching `pattern`; with the time it arrived. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<{ line: string; at: number }>;
  exited: Promise<number | null>;
}

/** A clean client environment: its own cache dir, no colours, English unless told. */
export function clientEnv(cacheDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: cacheDir,
    ELIZABETH_CACHE_DIR: cacheDir,
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

export function startClient(
  args: string[],
  env: Record<string, string>,
  options: { input?: Buffer | string; cwd?: string; entry?: string } = {},
): ClientProcess {
  const child = spawn(process.execPath, command(args, options.entry), {
    env,
    cwd: options.cwd ?? tmpdir(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  const lines: { line: string; at: number }[] = [];
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push({ line, at: Date.now() });
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  child.stdin.on('error', () => undefined);
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => err,
    exited,
    waitForLine(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => pattern.test(l.line));
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no line ${pattern} in ${timeoutMs} ms; stdout: ${lines.map((l) => l.line).join('\n')}\nstderr: ${err}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs one client command to its end. */
export async function runClient(
  args: string[],
  env: Record<string, string>,
  options: { input?: Buffer | string; cwd?: string; timeoutMs?: number; entry?: string } = {},
): Promise<ClientRun> {
  const proc = startClient(args, env, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const chunks: Buffer[] = [];
  proc.child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: Buffer.concat(chunks), stderr: proc.stderr() };
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Writes `size` pseudo-random bytes (an 8 MiB random block, each copy tagged) to a new file. */
export function writeBigFile(path: string, size: number): void {
  const block = randomBytes(8 * 1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let offset = 0, n = 0; offset < size; offset += block.length, n += 1) {
      block.writeUInt32BE(n, 0);
      writeSync(fd, block, 0, Math.min(block.length, size - offset));
    }
  } finally {
    closeSync(fd);
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A room session of our own (for checks from the server's side). */
export async function enter(base: string, room: string, password?: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/rooms/${encodeURIComponent(room)}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(password ? { password } : {}),
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`enter ${room}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function createRoom(base: string, room: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/api/v1/rooms/${encodeURIComponent(room)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create ${room}: ${res.status} ${await res.text()}`);
}
