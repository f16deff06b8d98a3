/**
 * Exit codes, passwords, sessions and the command line itself, with the client as a separate
 * process: a password room (flag, environment, wrong → 3, none and no terminal → 3); an expired
 * room → 4; a full room → 5 with the server's message; usage errors → 2; `share` like the
 * other commands (3 for a wrong password or a session without DELETE, 4 expired, 2 usage); the token cache is
 * 0600 and a second run refreshes the session instead of entering again; --help, completions,
 * Chinese messages, open.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SpawnedServer, spawnServer } from '../reliability/spawned-server.js';
import { clientEnv, createRoom, runClient, serverEnv, tempDir } from './harness.js';

describe('elizabeth client: exit codes, passwords, sessions, help', () => {
  const dir = tempDir('elz-client-errors-');
  let server: SpawnedServer;
  let cacheN = 0;
  const freshEnv = (extra: Record<string, string> = {}) =>
    clientEnv(join(dir, `cache-${(cacheN += 1)}`), extra);

  beforeAll(async () => {
    server = await spawnServer(
      serverEnv(join(dir, 'server'), {
        ROOM_ALLOWED_AGES: '2s,2h',
        ROOM_DEFAULT_AGE: '2h',
        JWT_TTL_SECONDS: '30',
      }),
    );
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a password room: --password and ELIZABETH_PASSWORD enter; a wrong or missing one exits 3', async () => {
    await createRoom(server.url, 'locked-room', { password: 'right-pass', max_times_entered: 100 });
    const url = `${server.url}/locked-room`;
    const flag = await runClient(['send', url, 'with the flag', '--password', 'right-pass'], freshEnv());
    expect(flag.stderr).toBe('');
    expect(flag.code).toBe(0);
    const fromEnv = await runClient(['ls', url], freshEnv({ ELIZABETH_PASSWORD: 'right-pass' }));
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout.toString()).toContain('with the flag');
    const wrong = await runClient(['ls', url, '--password', 'wrong-pass'], freshEnv());
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/AUTHENTICATION_FAILED/);
    const none = await runClient(['ls', url], freshEnv());
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/needs a password/);
    // share, like the others
    const shared = await runClient(['share', url, '--json', '--password', 'right-pass'], freshEnv());
    expect(shared.code, shared.stderr).toBe(0);
    expect((JSON.parse(shared.stdout.toString()) as { permission: number }).permission).toBe(1);
    const wrongShare = await runClient(['share', url, '--password', 'wrong-pass'], freshEnv());
    expect(wrongShare.code).toBe(3);
    expect(wrongShare.stderr).toMatch(/AUTHENTICATION_FAILED/);
    const noneShare = await runClient(['share', url], freshEnv());
    expect(noneShare.code).toBe(3);
    expect(noneShare.stderr).toMatch(/needs a password/);
  });

  it('share without DELETE in the room exits 3 (PERMISSION_DENIED)', async () => {
    await createRoom(server.url, 'no-managers', { max_times_entered: 100 });
    const entered = await fetch(`${server.url}/api/v1/rooms/no-managers/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const { token } = (await entered.json()) as { token: string };
    const changed = await fetch(`${server.url}/api/v1/rooms/no-managers/permissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ edit: true, share: true, delete: false }),
    });
    expect(changed.status, await changed.text()).toBe(200);
    const res = await runClient(['share', `${server.url}/no-managers`], freshEnv());
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/PERMISSION_DENIED/);
  });

  it('tokens are cached 0600 and refreshed: a second run does not enter the room again', async () => {
    await createRoom(server.url, 'cached-room', { max_times_entered: 100 });
    const env = freshEnv();
    expect((await runClient(['ls', `${server.url}/cached-room`], env)).code).toBe(0);
    const file = join(env.ELIZABETH_CACHE_DIR!, 'tokens.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<
      string,
      { token: string; refresh_token: string }
    >;
    const key = `${server.url}|cached-room`;
    expect(before[key]?.refresh_token).toBeTruthy();
    // JWT_TTL_SECONDS=30 is inside the client's renewal margin: the next run refreshes
    expect((await runClient(['ls', `${server.url}/cached-room`], env)).code).toBe(0);
    const after = JSON.parse(readFileSync(file, 'utf8')) as typeof before;
    expect(after[key]!.refresh_token).not.toBe(before[key]!.refresh_token);
    const room = (await (await fetch(`${server.url}/api/v1/rooms/cached-room`)).json()) as {
      current_times_entered: number;
    };
    expect(room.current_times_entered).toBe(1);
    // a session the server no longer accepts is replaced by a new one
    writeFileSync(
      file,
      JSON.stringify({ [key]: { token: 'not-a-token', expires_at: '2999-01-01T00:00:00.000Z' } }),
    );
    expect((await runClient(['ls', `${server.url}/cached-room`], env)).code).toBe(0);
  });

  it('an expired room exits 4', async () => {
    await createRoom(server.url, 'short-lived', { age_seconds: 2 });
    await new Promise((r) => setTimeout(r, 2_500));
    const res = await runClient(['ls', `${server.url}/short-lived`], freshEnv());
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/ROOM_EXPIRED/);
    const shared = await runClient(['share', `${server.url}/short-lived`], freshEnv());
    expect(shared.code).toBe(4);
    expect(shared.stderr).toMatch(/ROOM_EXPIRED/);
  });

  it("a full room exits 5 with the server's message", async () => {
    await createRoom(server.url, 'tiny-room', { max_size: 1000 });
    const file = join(dir, 'too-big.bin');
    writeFileSync(file, Buffer.alloc(5000, 7));
    const res = await runClient(['push', `${server.url}/tiny-room`, file], freshEnv());
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/QUOTA_EXCEEDED/);
    const message = /elizabeth: (.*) \(QUOTA_EXCEEDED\)/.exec(res.stderr)?.[1];
    const direct = await fetch(`${server.url}/api/v1/rooms/tiny-room/contents/prepare`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${JSON.parse(readFileSync(join(dir, `cache-${cacheN}`, 'tokens.json'), 'utf8'))[`${server.url}|tiny-room`].token as string}`,
      },
      body: JSON.stringify({ files: [{ name: 'too-big.bin', size: 5000 }] }),
    });
    const envelope = (await direct.json()) as { error: { message: string } };
    expect(message).toBe(envelope.error.message);
  });

  it('push --again: a refusal while getting the token ends the run at once, not after tus retries', async () => {
    // With --again the first token request happens inside tus-js-client's request hook; its
    // failure used to be retried with tus's back-off (~19 s) and then reported as a tus error.
    await createRoom(server.url, 'locked-again', { password: 'right-pass', max_times_entered: 100 });
    const file = join(dir, 'again.bin');
    writeFileSync(file, Buffer.alloc(1000, 3));
    let started = Date.now();
    const locked = await runClient(['push', `${server.url}/locked-again`, file, '--again'], freshEnv());
    const lockedMs = Date.now() - started;
    expect(locked.code, locked.stderr).toBe(3);
    expect(locked.stderr).toMatch(/needs a password/);
    started = Date.now();
    const wrong = await runClient(
      ['push', `${server.url}/locked-again`, file, '--again', '--password', 'wrong-pass'],
      freshEnv(),
    );
    const wrongMs = Date.now() - started;
    expect(wrong.code, wrong.stderr).toBe(3);
    expect(wrong.stderr).toMatch(/AUTHENTICATION_FAILED/);
    // process start (tsx) included; the retries took ≥ 19 s
    expect(lockedMs).toBeLessThan(8_000);
    expect(wrongMs).toBeLessThan(8_000);
  });

  it(
    'usage errors exit 2; a bare room name needs a server; --server and ELIZABETH_URL give it',
    { timeout: 90_000 },
    async () => {
      expect((await runClient(['push'], freshEnv())).code).toBe(2);
      expect((await runClient(['pull', `${server.url}/some-room`], freshEnv())).code).toBe(2);
      expect((await runClient(['tail', `${server.url}/some-room`, '--bogus'], freshEnv())).code).toBe(2);
      expect((await runClient(['share'], freshEnv())).code).toBe(2);
      expect((await runClient(['share', `${server.url}/some-room`, '--bogus'], freshEnv())).code).toBe(2);
      expect((await runClient(['share', 'bare-room'], freshEnv())).code).toBe(2);
      const sharedBare = await runClient(
        ['share', 'bare-room', '--server', server.url, '--json'],
        freshEnv(),
      );
      expect(sharedBare.code, sharedBare.stderr).toBe(0);
      const bare = await runClient(['ls', 'bare-room'], freshEnv());
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/ELIZABETH_URL/);
      expect((await runClient(['ls', 'bare-room', '--server', server.url], freshEnv())).code).toBe(0);
      const host = server.url.replace('http://', '');
      expect((await runClient(['ls', 'bare-room'], freshEnv({ ELIZABETH_URL: host }))).code).toBe(0);
      expect((await runClient(['ls', `${host}/bare-room`], freshEnv())).code).toBe(0);
    },
  );

  it('messages in Chinese with --lang zh or a zh locale', async () => {
    const flag = await runClient(['ls', 'bare-room', '--lang', 'zh'], freshEnv());
    expect(flag.stderr).toMatch(/没有服务器地址/);
    const locale = await runClient(['ls', 'bare-room'], freshEnv({ LANG: 'zh_CN.UTF-8' }));
    expect(locale.stderr).toMatch(/没有服务器地址/);
  });

  it(
    '--help for the program and every command; completions for bash, zsh, fish; open prints a QR code',
    { timeout: 90_000 },
    async () => {
      const help = await runClient(['--help'], freshEnv());
      for (const command of ['push', 'pull', 'ls', 'send', 'tail', 'share', 'open', 'completions', 'serve']) {
        expect(help.stdout.toString()).toContain(command);
      }
      for (const command of ['push', 'pull', 'ls', 'send', 'tail', 'share', 'open']) {
        const res = await runClient([command, '--help'], freshEnv());
        expect(res.code).toBe(0);
        expect(res.stdout.toString()).toMatch(new RegExp(`Usage: elizabeth ${command} \\[options\\] <room>`));
        expect(res.stdout.toString()).toContain('--password');
      }
      for (const shell of ['bash', 'zsh', 'fish']) {
        const res = await runClient(['completions', shell], freshEnv());
        expect(res.code).toBe(0);
        expect(res.stdout.toString()).toContain('push');
        expect(res.stdout.toString()).toContain('share');
      }
      expect((await runClient(['completions', 'tcsh'], freshEnv())).code).toBe(2);
      const open = await runClient(['open', `${server.url}/qr-room`], freshEnv());
      expect(open.code).toBe(0);
      expect(open.stdout.toString()).toContain(`${server.url}/qr-room`);
      expect(open.stdout.toString()).toMatch(/[█▀▄]/);
    },
  );
});
