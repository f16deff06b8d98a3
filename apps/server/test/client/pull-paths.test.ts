/**
 * The ways a download reaches `elizabeth pull` besides a plain answer from our own server:
 * a server storing on S3 with presigned downloads answers 302 to S3 (followed, without the
 * room token); a proxy that re-sends the body chunked (the reused-buffer reader steps aside
 * for node:http); a connection cut in the middle of the body (the part file keeps what
 * arrived, the next run asks for the rest with Range). Bytes are compared by SHA-256.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SpawnedServer, spawnServer } from '../reliability/spawned-server.js';
import { s3ServerEnv, startS3, type TestS3 } from '../support/s3.js';
import { clientEnv, createRoom, runClient, serverEnv, sha256, tempDir } from './harness.js';

const MiB = 1024 * 1024;

describe('elizabeth pull: redirects to S3, chunked answers, cut connections', () => {
  const dir = tempDir('elz-client-pull-paths-');
  let s3: TestS3;
  let server: SpawnedServer;
  const bytes = randomBytes(24 * MiB + 77);
  const file = join(dir, 'payload.bin');
  let id = 0;
  let cacheN = 0;
  const freshEnv = () => clientEnv(join(dir, `cache-${(cacheN += 1)}`));

  beforeAll(async () => {
    s3 = await startS3();
    server = await spawnServer(
      serverEnv(join(dir, 'server'), {
        ...s3ServerEnv(s3.settings),
        S3_PRESIGN_DOWNLOADS_SECONDS: '60',
      }),
    );
    writeFileSync(file, bytes);
    await createRoom(server.url, 'pull-paths', { max_size: 256 * MiB, max_times_entered: 1000 });
    const pushed = await runClient(['push', `${server.url}/pull-paths`, file, '--json'], freshEnv());
    expect(pushed.code, pushed.stderr).toBe(0);
    const listed = await runClient(['ls', `${server.url}/pull-paths`, '--json'], freshEnv());
    id = (JSON.parse(listed.stdout.toString()) as { id: number }[])[0]!.id;
  });
  afterAll(async () => {
    await server?.kill();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A proxy in front of the server: every request is passed on, except the download, which
   * `download` answers (the token requests of the client still reach the server).
   */
  async function front(download: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const upstream = new URL(server.url);
    const listener = http.createServer((req, res) => {
      if (req.method === 'GET' && /^\/api\/v1\/contents\/\d+/.test(req.url ?? '')) return download(req, res);
      const { host: _host, ...headers } = req.headers;
      const up = http.request(
        new URL(req.url ?? '/', upstream),
        { method: req.method, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`,
      close: async () => {
        listener.closeAllConnections();
        await new Promise((r) => listener.close(r));
      },
    };
  }

  /**
   * A front whose download follows the server's 302 to S3 itself and answers with `shape`: the
   * body chunked (no Content-Length), or cut after `cutAt` bytes.
   */
  function reshaping(shape: { chunked?: boolean; cutAt?: number }) {
    return front((req, res) => {
      const get = (target: URL, headers: http.OutgoingHttpHeaders) =>
        http.get(target, { headers }, (up) => {
          if (up.statusCode === 302 && up.headers.location) {
            up.resume();
            get(new URL(up.headers.location, target), req.headers.range ? { range: req.headers.range } : {});
            return;
          }
          const out = { ...up.headers };
          if (shape.chunked) delete out['content-length'];
          res.writeHead(up.statusCode ?? 502, out);
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            if (shape.cutAt !== undefined && sent + chunk.length >= shape.cutAt) {
              res.write(chunk.subarray(0, shape.cutAt - sent), () => res.socket?.destroy());
              sent = shape.cutAt;
              up.destroy();
              return;
            }
            sent += chunk.length;
            res.write(chunk);
          });
          up.on('end', () => res.end());
        });
      const { host: _host, ...headers } = req.headers;
      get(new URL(req.url ?? '/', server.url), headers);
    });
  }

  it('follows the 302 to a presigned S3 URL, without sending the room token there', async () => {
    const out = join(dir, 'from-s3');
    const res = await runClient(['pull', `${server.url}/pull-paths`, String(id), '-o', out], freshEnv());
    expect(res.code, res.stderr).toBe(0);
    expect(sha256(readFileSync(join(out, 'payload.bin')))).toBe(sha256(bytes));
    // the same download to stdout (node:http path)
    const piped = await runClient(['pull', `${server.url}/pull-paths`, String(id), '-o', '-'], freshEnv());
    expect(piped.code, piped.stderr).toBe(0);
    expect(sha256(piped.stdout)).toBe(sha256(bytes));

    // what the redirect's target is sent, seen by a listener in S3's place: no room token,
    // the Range of a resumed download
    let seen: http.IncomingHttpHeaders = {};
    const storage = http.createServer((req, res) => {
      seen = req.headers;
      res.writeHead(416, { 'content-length': '0' }).end();
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
    const redirecting = await front((_req, res) => {
      const port = (storage.address() as AddressInfo).port;
      res.writeHead(302, { location: `http://127.0.0.1:${port}/object?X-Amz-Signature=x` }).end();
    });
    try {
      const resumed = join(dir, 'resumed');
      mkdirSync(resumed);
      writeFileSync(join(resumed, `.payload.bin.${id}.elizabeth-part`), bytes);
      const again = await runClient(
        ['pull', `${redirecting.url}/pull-paths`, String(id), '-o', resumed],
        freshEnv(),
      );
      expect(again.code, again.stderr).toBe(0);
      expect(seen.authorization).toBeUndefined();
      expect(seen.range).toBe(`bytes=${bytes.length}-`);
      expect(sha256(readFileSync(join(resumed, 'payload.bin')))).toBe(sha256(bytes));
    } finally {
      await redirecting.close();
      storage.closeAllConnections();
      await new Promise((r) => storage.close(r));
    }
  });

  it('a chunked answer (a proxy re-encoding the body) is taken through node:http', async () => {
    const chunked = await reshaping({ chunked: true });
    try {
      const out = join(dir, 'chunked');
      const res = await runClient(['pull', `${chunked.url}/pull-paths`, String(id), '-o', out], freshEnv());
      expect(res.code, res.stderr).toBe(0);
      expect(sha256(readFileSync(join(out, 'payload.bin')))).toBe(sha256(bytes));
    } finally {
      await chunked.close();
    }
  });

  it('a connection cut in the body keeps the bytes that came; the next run fetches the rest', async () => {
    const cutAt = 7 * MiB + 3;
    const cutting = await reshaping({ cutAt });
    const out = join(dir, 'cut');
    const env = freshEnv();
    try {
      const cut = await runClient(['pull', `${cutting.url}/pull-paths`, String(id), '-o', out], env);
      expect(cut.code).toBe(1);
      expect(cut.stderr).toMatch(/closed/);
      expect(existsSync(join(out, 'payload.bin'))).toBe(false);
      const part = readdirSync(out).find((name) => name.endsWith('.elizabeth-part'))!;
      expect(statSync(join(out, part)).size).toBe(cutAt);
    } finally {
      await cutting.close();
    }
    const rest = await runClient(['pull', `${server.url}/pull-paths`, String(id), '-o', out], env);
    expect(rest.code, rest.stderr).toBe(0);
    expect(sha256(readFileSync(join(out, 'payload.bin')))).toBe(sha256(bytes));
  });
});
