/**
 * `elizabeth push` and `pull` as separate processes against a real server: 3 files (one
 * 200 MiB) and a directory; the client SIGKILLed in the middle of the big upload and the same
 * command run again resumes at the server's offset; pull of everything, `--zip`, to stdout,
 * with `Range` resume; stdin push; never overwriting without `--force`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Transform } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SpawnedServer, spawnServer } from '../reliability/spawned-server.js';
import {
  clientEnv,
  createRoom,
  enter,
  runClient,
  serverEnv,
  sha256,
  startClient,
  tempDir,
  writeBigFile,
} from './harness.js';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;

describe('elizabeth push / pull (client process, real server)', () => {
  const dir = tempDir('elz-client-');
  const files = join(dir, 'files');
  const cache = join(dir, 'cache');
  let server: SpawnedServer;
  let env: Record<string, string>;
  let roomUrl: string;
  const room = 'client-push';

  beforeAll(async () => {
    mkdirSync(join(files, 'tree', 'sub'), { recursive: true });
    writeBigFile(join(files, 'big.bin'), BIG);
    writeFileSync(join(files, 'one.txt'), 'first small file\n');
    writeFileSync(join(files, 'two 名字.md'), '# second\n');
    writeFileSync(join(files, 'tree', 'a.txt'), 'tree a');
    writeFileSync(join(files, 'tree', 'sub', 'b.txt'), 'tree sub b');
    server = await spawnServer(serverEnv(join(dir, 'server')));
    env = clientEnv(cache);
    roomUrl = `${server.url}/${room}`;
    await createRoom(server.url, room, { max_size: 1024 * MiB, max_times_entered: 1000 });
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'push: killed mid-upload, the same command resumes from the server offset; bytes equal',
    { timeout: 180_000 },
    async () => {
      const args = [
        'push',
        roomUrl,
        join(files, 'big.bin'),
        join(files, 'one.txt'),
        join(files, 'two 名字.md'),
        join(files, 'tree'),
        '--chunk-size',
        String(MiB),
        '--json',
      ];
      const first = startClient(args, env);
      // Wait until the server holds part of the big upload, then kill the client.
      const token = await enter(server.url, room);
      let uploadUrl: string | undefined;
      let offsetAtKill = 0;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const stored: { uploadUrl: string; metadata: { filename: string } }[] = [];
        try {
          for (const f of readdirSync(join(cache, 'uploads'))) {
            if (f.endsWith('.json'))
              stored.push(
                JSON.parse(readFileSync(join(cache, 'uploads', f), 'utf8')) as (typeof stored)[number],
              );
          }
        } catch {
          // not written yet, or a file being renamed into place
        }
        uploadUrl = stored.find((u) => u.metadata.filename === 'big.bin')?.uploadUrl;
        if (uploadUrl) {
          const head = await fetch(uploadUrl, {
            method: 'HEAD',
            headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
          });
          offsetAtKill = Number(head.headers.get('upload-offset') ?? 0);
          if (offsetAtKill > 0) break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      first.child.kill('SIGKILL');
      await first.exited;
      expect(uploadUrl).toBeDefined();
      expect(offsetAtKill).toBeGreaterThan(0);
      expect(offsetAtKill).toBeLessThan(BIG);
      // what the server holds after the kill (a PATCH may have been cut half-way)
      const head = await fetch(uploadUrl!, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
      });
      const serverOffset = Number(head.headers.get('upload-offset'));
      expect(serverOffset).toBeGreaterThanOrEqual(offsetAtKill);
      expect(serverOffset).toBeLessThan(BIG);

      const again = await runClient(args, env, { timeoutMs: 150_000 });
      expect(again.stderr).not.toMatch(/error/i);
      expect(again.code).toBe(0);
      const results = JSON.parse(again.stdout.toString()) as {
        name: string;
        size: number;
        upload_url: string;
        resumed_from: number;
        skipped: boolean;
      }[];
      const big = results.find((r) => r.name === 'big.bin')!;
      expect(big.upload_url).toBe(uploadUrl); // the same tus upload, continued
      expect(big.resumed_from).toBe(serverOffset); // from the server's offset, not from 0

      const ls = await runClient(['ls', roomUrl, '--json'], env);
      expect(ls.code).toBe(0);
      const contents = JSON.parse(ls.stdout.toString()) as { id: number; file_name: string; size: number }[];
      expect(contents.map((c) => c.file_name).sort()).toEqual([
        'big.bin',
        'one.txt',
        'tree_a.txt',
        'tree_sub_b.txt',
        'two 名字.md',
      ]);
      expect(contents.find((c) => c.file_name === 'big.bin')!.size).toBe(BIG);

      // a third run sends nothing: every file is in the room
      const third = await runClient(args, env);
      expect(third.code).toBe(0);
      expect((JSON.parse(third.stdout.toString()) as { skipped: boolean }[]).every((r) => r.skipped)).toBe(
        true,
      );
    },
  );

  it(
    'push sends a file in one PATCH by default; a PATCH cut by a kill resumes from the server offset',
    { timeout: 180_000 },
    async () => {
      // Between client and server: a proxy that notes every PATCH (and passes a cut request on
      // as a cut request).
      const patches: { url: string; offset: number; length: number }[] = [];
      // The first run's PATCH body is slowed (2 ms per chunk) so the kill lands mid-transfer
      // even on a quiet machine, where 200 MiB otherwise arrive before it.
      const slow = { on: true };
      const proxy = http.createServer((req, res) => {
        if (req.method === 'PATCH')
          patches.push({
            url: req.url ?? '',
            offset: Number(req.headers['upload-offset']),
            length: Number(req.headers['content-length']),
          });
        const upstream = http.request(
          new URL(req.url ?? '/', server.url),
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        req.on('close', () => {
          if (!req.complete) upstream.destroy();
        });
        if (req.method === 'PATCH' && slow.on)
          req
            .pipe(new Transform({ transform: (chunk, _e, done) => setTimeout(() => done(null, chunk), 2) }))
            .pipe(upstream);
        else req.pipe(upstream);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      try {
        const viaProxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
        const room2 = 'client-one-patch';
        await createRoom(server.url, room2, { max_size: 1024 * MiB, max_times_entered: 1000 });
        const env2 = clientEnv(join(dir, 'cache-one-patch'));
        const args = ['push', `${viaProxy}/${room2}`, join(files, 'big.bin'), '--json'];
        const token = await enter(server.url, room2);
        const first = startClient(args, env2);
        let serverOffset = 0;
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && serverOffset === 0) {
          await new Promise((r) => setTimeout(r, 20));
          if (patches.length === 0) continue;
          const head = await fetch(new URL(patches[0]!.url, server.url), {
            method: 'HEAD',
            headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
          });
          serverOffset = Number(head.headers.get('upload-offset') ?? 0);
        }
        first.child.kill('SIGKILL');
        await first.exited;
        slow.on = false;
        // every PATCH carries the whole rest of the file (a retry within the run included)
        expect(patches.every((p) => p.offset + p.length === BIG)).toBe(true);
        const firstRun = patches.length;
        await new Promise((r) => setTimeout(r, 500)); // the server notices the cut request
        const head = await fetch(new URL(patches[0]!.url, server.url), {
          method: 'HEAD',
          headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
        });
        const kept = Number(head.headers.get('upload-offset'));
        expect(kept).toBeGreaterThan(0);
        expect(kept).toBeLessThan(BIG);

        const again = await runClient(args, env2, { timeoutMs: 150_000 });
        expect(again.code).toBe(0);
        const [result] = JSON.parse(again.stdout.toString()) as { resumed_from: number; size: number }[];
        expect(result!.resumed_from).toBe(kept);
        // the rest in one PATCH, from the offset the server kept
        expect(patches.slice(firstRun).map((p) => [p.offset, p.length])).toEqual([[kept, BIG - kept]]);

        const ls = JSON.parse(
          (await runClient(['ls', `${server.url}/${room2}`, '--json'], env2)).stdout.toString(),
        ) as {
          id: number;
          size: number;
        }[];
        const stored = await fetch(`${server.url}/api/v1/contents/${ls[0]!.id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(sha256(Buffer.from(await stored.arrayBuffer()))).toBe(
          sha256(readFileSync(join(files, 'big.bin'))),
        );
      } finally {
        proxy.closeAllConnections();
        await new Promise((r) => proxy.close(r));
      }
    },
  );

  it('pull --all: every file, bytes equal; no overwrite without --force', { timeout: 120_000 }, async () => {
    const out = join(dir, 'pulled');
    const res = await runClient(['pull', roomUrl, '--all', '-o', out], env, { timeoutMs: 100_000 });
    expect(res.stderr).toContain('saved');
    expect(res.code).toBe(0);
    expect(sha256(readFileSync(join(out, 'big.bin')))).toBe(sha256(readFileSync(join(files, 'big.bin'))));
    expect(readFileSync(join(out, 'two 名字.md'), 'utf8')).toBe('# second\n');
    expect(readFileSync(join(out, 'tree_sub_b.txt'), 'utf8')).toBe('tree sub b');

    const refused = await runClient(['pull', roomUrl, 'one.txt', '-o', out], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists; use --force/);
    writeFileSync(join(out, 'one.txt'), 'changed');
    const forced = await runClient(['pull', roomUrl, 'one.txt', '-o', out, '--force'], env);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'one.txt'), 'utf8')).toBe('first small file\n');
  });

  it('pull resumes a partial download with Range', { timeout: 60_000 }, async () => {
    const out = join(dir, 'partial');
    mkdirSync(out);
    const ls = JSON.parse((await runClient(['ls', roomUrl, '--json'], env)).stdout.toString()) as {
      id: number;
      file_name: string;
    }[];
    const id = ls.find((c) => c.file_name === 'big.bin')!.id;
    const original = readFileSync(join(files, 'big.bin'));
    // the first 50 MiB as an interrupted run leaves them; the rest must come by Range
    writeFileSync(join(out, `.big.bin.${id}.elizabeth-part`), original.subarray(0, 50 * MiB));
    const res = await runClient(['pull', roomUrl, String(id), '-o', out], env);
    expect(res.code).toBe(0);
    expect(sha256(readFileSync(join(out, 'big.bin')))).toBe(sha256(original));
  });

  it(
    'pull -o - writes one file to stdout; --zip the archive; -o - with two files is a usage error',
    { timeout: 60_000 },
    async () => {
      const one = await runClient(['pull', roomUrl, 'two 名字.md', '-o', '-'], env);
      expect(one.code).toBe(0);
      expect(one.stdout.toString()).toBe('# second\n');

      const two = await runClient(['pull', roomUrl, 'one.txt', 'two 名字.md', '-o', '-'], env);
      expect(two.code).toBe(2);

      const out = join(dir, 'zipped');
      const zip = await runClient(['pull', roomUrl, '--zip', '-o', out], env, { timeoutMs: 100_000 });
      expect(zip.code).toBe(0);
      const zipFile = join(out, `${room}.zip`);
      const listing = execFileSync('unzip', ['-Z1', zipFile], { encoding: 'utf8' }).trim().split('\n').sort();
      expect(listing).toEqual([
        'big.bin',
        'messages.md',
        'one.txt',
        'tree_a.txt',
        'tree_sub_b.txt',
        'two 名字.md',
      ]);
      expect(execFileSync('unzip', ['-p', zipFile, 'one.txt'], { encoding: 'utf8' })).toBe(
        'first small file\n',
      );

      const zipOut = await runClient(['pull', roomUrl, '--zip', 'one.txt', '-o', '-'], env);
      expect(zipOut.code).toBe(0);
      writeFileSync(join(dir, 'stdout.zip'), zipOut.stdout);
      expect(
        execFileSync('unzip', ['-Z1', join(dir, 'stdout.zip')], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .sort(),
      ).toEqual(['one.txt']); // named files: without messages.md
    },
  );

  it('push - reads stdin (--name); send posts text, stdin and links', { timeout: 60_000 }, async () => {
    const piped = Buffer.from('piped bytes\u0000\u00ff from a pipe');
    const pushed = await runClient(['push', roomUrl, '-', '--name', 'piped.bin'], env, { input: piped });
    expect(pushed.code).toBe(0);
    const back = await runClient(['pull', roomUrl, 'piped.bin', '-o', '-'], env);
    expect(back.code).toBe(0);
    expect(sha256(back.stdout)).toBe(sha256(piped));
    expect(readdirSync(join(cache, 'spool'))).toEqual([]); // the spooled stdin is gone once sent

    expect((await runClient(['send', roomUrl, 'hello from argv'], env)).code).toBe(0);
    const fromStdin = await runClient(['send', roomUrl, '-', '--json'], env, {
      input: 'line one\nline two\n',
    });
    expect(fromStdin.code).toBe(0);
    expect((JSON.parse(fromStdin.stdout.toString()) as { text: string }).text).toBe('line one\nline two');
    expect((await runClient(['send', roomUrl, 'Spec', '--link', 'https://example.com/spec'], env)).code).toBe(
      0,
    );
    const empty = await runClient(['send', roomUrl, '-'], env, { input: '  \n' });
    expect(empty.code).toBe(2);

    const tail = await runClient(['tail', roomUrl], env);
    expect(tail.code).toBe(0);
    expect(tail.stdout.toString()).toMatch(/hello from argv\n.*line one\nline two\n/s);
    const ls = await runClient(['ls', roomUrl], env);
    expect(ls.stdout.toString()).toMatch(/link .*Spec https:\/\/example\.com\/spec/);
    expect(ls.stdout.toString()).toMatch(/file .*200 MiB .*big\.bin/);
  });
});
