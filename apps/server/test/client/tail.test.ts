/**
 * `elizabeth tail -f` as a separate process: a message posted by another client shows within
 * 1 s, files and presence are followed, and the stream survives a restart of the server (same
 * port, same data), catching up on what was posted meanwhile.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SpawnedServer, spawnServer } from '../reliability/spawned-server.js';
import {
  type ClientProcess,
  clientEnv,
  createRoom,
  enter,
  runClient,
  serverEnv,
  startClient,
  tempDir,
} from './harness.js';

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('elizabeth tail -f (client process, real server)', () => {
  const dir = tempDir('elz-tail-');
  const room = 'client-tail';
  let env: Record<string, string>;
  let server: SpawnedServer;
  let tail: ClientProcess | undefined;

  beforeAll(async () => {
    env = serverEnv(join(dir, 'server'));
    server = await spawnServer(env);
    await createRoom(server.url, room, { max_times_entered: 1000 });
  });
  afterAll(async () => {
    tail?.child.kill('SIGKILL');
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (text: string) => {
    const token = await enter(server.url, room);
    const sent = Date.now();
    const res = await fetch(`${server.url}/api/v1/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    expect(res.status).toBe(201);
    return sent;
  };

  it('prints the author name of a message whose poster set one', async () => {
    const res = await fetch(`${server.url}/api/v1/rooms/${room}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Alice' }),
    });
    const { token } = (await res.json()) as { token: string };
    const posted = await fetch(`${server.url}/api/v1/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'said by Alice' }),
    });
    expect(posted.status).toBe(201);
    await post('said by nobody');
    const run = await runClient(
      ['tail', `${server.url}/${room}`, '--lines', '2'],
      clientEnv(join(dir, 'named')),
    );
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout.toString('utf8');
    expect(out).toMatch(/^\[[^\]]+\] Alice: said by Alice$/m);
    expect(out).toMatch(/^\[[^\]]+\] said by nobody$/m);
  });

  it(
    'prints the history, then new messages within 1 s, files and presence; survives a server restart',
    { timeout: 180_000 },
    async () => {
      await post('before tail');
      const cache = join(dir, 'cache');
      tail = startClient(['tail', '-f', `${server.url}/${room}`], clientEnv(cache));
      await tail.waitForLine(/before tail$/, 30_000);
      await waitFor(() => /following client-tail/.test(tail!.stderr()), 'the socket');

      const sent = await post('live message');
      const seen = await tail.waitForLine(/live message$/, 5_000);
      expect(seen.at - sent).toBeLessThanOrEqual(1_000);

      // a file pushed by another client process, and its presence while it is connected
      const push = await runClient(
        ['push', `${server.url}/${room}`, '-', '--name', 'from-push.txt'],
        clientEnv(join(dir, 'other')),
        {
          input: 'pushed while tailing',
        },
      );
      expect(push.code).toBe(0);
      await tail.waitForLine(/\[file\] from-push\.txt \(20 B\)/, 5_000);

      // the server restarts on the same port with the same data; tail reconnects by itself
      await server.stop();
      await waitFor(() => /reconnecting/.test(tail!.stderr()), 'the reconnect notice');
      server = await spawnServer(env, server.port);
      await waitFor(
        () => (tail!.stderr().match(/following client-tail/g) ?? []).length >= 2,
        'the reconnection',
        30_000,
      );
      const after = await post('after restart');
      const seenAfter = await tail.waitForLine(/after restart$/, 5_000);
      expect(seenAfter.at - after).toBeLessThanOrEqual(1_000);
      expect(tail.child.exitCode).toBeNull();
      // each message printed once
      expect(tail.stdout().match(/live message/g)).toHaveLength(1);
    },
  );
});
