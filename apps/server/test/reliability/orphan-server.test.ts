/**
 * Issue 16 item 16: `bin/elizabeth.js` in a checkout without a build used to spawn the server
 * as a child (node + tsx) and forward only SIGINT/SIGTERM, so a SIGKILLed wrapper left its
 * server listening. It now runs the sources in its own process: SIGKILL ends the server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, expect, it } from 'vitest';

import { freePort } from '../server/ports.js';
import { TEST_JWT_SECRET } from '../support/app.js';
import setup from '../support/global-setup.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));
const source = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'elz-orphan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Live processes whose environment holds `marker` (this user's processes only). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker))
        found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

it('SIGKILL on `elizabeth serve` (sources through tsx) leaves no server behind', async () => {
  const port = await freePort();
  const marker = `ELZ_ORPHAN_TEST=${port}`;
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      DATA_DIR: join(dir, 'data'),
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      LISTEN_ADDR: '127.0.0.1',
      PORT: String(port),
      ELIZABETH_RUN_SOURCE: '1',
      [marker.split('=')[0]!]: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await expect
      .poll(
        async () => {
          if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${out}`);
          return fetch(`http://127.0.0.1:${port}/api/v1/health`).then(
            (r) => r.status,
            () => 0,
          );
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(200);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await expect.poll(() => accepts(port), { timeout: 10_000, interval: 100 }).toBe(false);
    expect(processesWith(marker)).toEqual([]);
  } finally {
    // Whatever the outcome, nothing this test started may outlive it.
    child.kill('SIGKILL');
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  }
}, 90_000);

it('the suite fails (global teardown throws, exit status 1) when a process a test started outlives it, and kills it', async () => {
  const run = process.env.ELIZABETH_TEST_RUN;
  const teardown = setup();
  expect(teardown).toBeTypeOf('function');
  // One inherits the environment (and the run's marker); one gets a bare environment but runs
  // this checkout's server sources.
  const inheriting = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', source, 'serve'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '' },
  });
  const gone = [inheriting, bare].map((child) => new Promise((resolve) => child.once('exit', resolve)));
  try {
    expect(() => teardown!()).toThrow(/outlived/);
    expect(process.exitCode).toBe(1);
    await Promise.all(gone);
    // Nothing left: a second check passes.
    expect(() => teardown!()).not.toThrow();
  } finally {
    process.exitCode = 0;
    if (run === undefined) delete process.env.ELIZABETH_TEST_RUN;
    else process.env.ELIZABETH_TEST_RUN = run;
    inheriting.kill('SIGKILL');
    bare.kill('SIGKILL');
  }
});
