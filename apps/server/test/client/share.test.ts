/** `elizabeth share` against a real spawned server (docs/CLI.md, share). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SpawnedServer, spawnServer } from '../reliability/spawned-server.js';
import { clientEnv, createRoom, runClient, serverEnv, tempDir } from './harness.js';

describe('elizabeth share', () => {
  const dir = tempDir('elz-client-share-');
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer(serverEnv(join(dir, 'server')));
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--edit-only --expires 1d makes a drop-box link that opens as EDIT only', async () => {
    await createRoom(server.url, 'cli-share', { age_seconds: 604800 });
    const before = Date.now();
    const run = await runClient(
      ['share', `${server.url}/cli-share`, '--edit-only', '--expires', '1d', '--json'],
      clientEnv(join(dir, 'cache')),
    );
    expect(run.code, run.stderr).toBe(0);
    const link = JSON.parse(run.stdout.toString()) as {
      permission: number;
      expire_at: string;
      secret: string;
      path: string;
    };
    expect(link.permission).toBe(2);
    expect(Date.parse(link.expire_at) - before).toBeGreaterThan(86_400_000 - 60_000);
    expect(Date.parse(link.expire_at) - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect(link.path).toBe(`/cli-share?s=${link.secret}`);
    const opened = await fetch(`${server.url}/api/v1/share-links/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: link.secret }),
    });
    expect(opened.status).toBe(200);
    expect(((await opened.json()) as { claims: { permission: number } }).claims.permission).toBe(2);

    const plain = await runClient(['share', `${server.url}/cli-share`], clientEnv(join(dir, 'cache')));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.toString()).toMatch(new RegExp(`${server.url}/cli-share\\?s=[A-Za-z0-9_-]{43}\\n$`));
  });

  it('--help, the program help and the completions know the command', async () => {
    const env = clientEnv(join(dir, 'c3'));
    const help = await runClient(['share', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/Usage: elizabeth share \[options\] <room>/);
    expect(help.stdout.toString()).toContain('--edit-only');
    expect((await runClient(['--help'], env)).stdout.toString()).toContain('share');
    expect((await runClient(['completions', 'bash'], env)).stdout.toString()).toContain('--edit-only');
  });

  it('a bad --expires is a usage error (exit 2)', async () => {
    const run = await runClient(
      ['share', `${server.url}/cli-share`, '--expires', 'soon'],
      clientEnv(join(dir, 'c2')),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--expires');
  });
});
