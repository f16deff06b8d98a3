import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { freePort } from './ports.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));
const SECRET = 'cli-test-secret-0123456789abcdefghijklmnop';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Only what the CLI needs: the test must not depend on the developer's environment.
  return { PATH: process.env.PATH, HOME: dir, ...extra };
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('elizabeth CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-cli-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    children.forEach((c) => c.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('--version prints the version', async () => {
    const result = await run(['--version'], cliEnv(dir), dir);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('config prints every key with its source and redacts secrets', async () => {
    const result = await run(
      ['config', '--port', '5000'],
      cliEnv(dir, {
        JWT_SECRET: SECRET,
        DATABASE_URL: 'postgres://bob:hunter2hunter2@db.internal:5432/eliz',
      }),
      dir,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/app\.server\.port = 5000\s+\(flag --port\)/);
    expect(result.stdout).toMatch(/app\.jwt\.secret = .*REDACTED.*\(env JWT_SECRET\)/);
    expect(result.stdout).toContain('app.room.defaults.max_size');
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).not.toContain('hunter2');
  });

  it('reports every invalid value with its source and exits 2', async () => {
    const result = await run(['config', '--port', 'eighty'], cliEnv(dir, { ROOM_MAX_SIZE: '50XB' }), dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('app.server.port');
    expect(result.stderr).toContain('--port');
    expect(result.stderr).toContain('app.room.defaults.max_size');
    expect(result.stderr).toContain('ROOM_MAX_SIZE');
  });

  it('refuses the template placeholder secret and says how to make one', async () => {
    const result = await run(
      ['config'],
      cliEnv(dir, { JWT_SECRET: 'please-change-this-secret-in-production-min-32-chars-long-for-security' }),
      dir,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('app.jwt.secret');
    expect(result.stderr).toMatch(/openssl rand|generated/);
  });

  it('migrate --status lists migrations, migrate applies them', async () => {
    const env = cliEnv(dir, { JWT_SECRET: SECRET });
    const before = await run(['migrate', '--status'], env, dir);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/pending\s+\S+/);
    const migrated = await run(['migrate'], env, dir);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('applied');
    const after = await run(['migrate', '--status'], env, dir);
    expect(after.stdout).not.toMatch(/pending/);
  });

  it('serve answers health and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--port', String(port), '--listen-addr', '127.0.0.1'],
      {
        env: cliEnv(dir, { DATA_DIR: join(dir, 'serve-data'), LOG_FORMAT: 'json' }),
        cwd: dir,
      },
    );
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));

    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      await new Promise((r) => setTimeout(r, 200));
      healthy = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then(
        (r) => r.ok,
        () => false,
      );
    }
    expect(healthy, output).toBe(true);

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // JSON logs, one object per line, and the generated secret never printed
    // (lines from Node itself, such as warnings, are not log lines)
    const lines = output
      .trim()
      .split('\n')
      .filter((l) => l && !l.startsWith('(node:') && !l.startsWith('(Use `node'));
    expect(() => lines.map((l) => JSON.parse(l) as unknown)).not.toThrow();
    expect(output).toContain('shutting down');
    const secret = readFileSync(join(dir, 'serve-data', 'jwt-secret'), 'utf8').trim();
    expect(output).not.toContain(secret);
  }, 60_000);
});
