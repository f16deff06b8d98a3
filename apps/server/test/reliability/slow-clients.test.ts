/**
 * Issue 16 item 4: a body sent one byte every few seconds stayed open for minutes, and one
 * client could hold any number of connections. A stalled body is cut after the (short, here)
 * progress window; an upload that keeps flowing for several windows is not; a client over its
 * connection cap is refused while another client (another loopback address) is served.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createContentsApp, listen, multipart, type ContentsTestApp } from '../support/contents.js';
import { bearer, createRoom, enter } from '../support/rooms.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('slow bodies and connections per client', () => {
  let t: ContentsTestApp;
  let base: string;
  let port: number;
  let token: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await createContentsApp({
      configure: (c) => {
        c.server.body_timeout_seconds = 1;
        c.server.body_min_bytes = 1024;
        c.server.max_connections_per_client = 4;
      },
    });
    base = await listen(t.app);
    port = Number(new URL(base).port);
    await createRoom(t.app, 'slow');
    token = (await enter(t.app, 'slow')).token;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await t.close();
  });

  it('a body dripping one byte at a time is cut after the progress window', async () => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    // The server cutting the connection may surface as ECONNRESET on this side: expected.
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    const started = performance.now();
    socket.write(
      `POST /api/v1/rooms/slow/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"text":"',
    );
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write('a');
    }, 200);
    const ended = await Promise.race([closed, sleep(8_000).then(() => undefined)]);
    clearInterval(drip);
    expect(ended, 'the dripping connection is still open after 8 s').toBeDefined();
    expect(ended! - started).toBeLessThan(4_000);
  });

  it('an upload that keeps flowing over several windows completes', async () => {
    const content = Buffer.alloc(2 * 1024 * 1024, 5);
    const body = multipart([{ name: 'flow.bin', content }]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/api/v1/rooms/slow/contents`, {
        method: 'POST',
        headers: { ...bearer(token), ...body.headers, 'content-length': String(body.payload.length) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      let offset = 0;
      // 64 KiB every 100 ms: about 3.3 s, three progress windows.
      const tick = setInterval(() => {
        const chunk = body.payload.subarray(offset, offset + 64 * 1024);
        offset += chunk.length;
        if (chunk.length > 0) req.write(chunk);
        if (offset >= body.payload.length) {
          clearInterval(tick);
          req.end();
        }
      }, 100);
    });
    expect(status).toBe(201);
  });

  it('a client over its connection cap is refused while another client is served', async () => {
    const open = async (localAddress: string) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      sockets.push(socket);
      await new Promise((r) => socket.once('connect', r));
      return socket;
    };
    const held = [];
    for (let i = 0; i < 4; i += 1) held.push(await open('127.0.0.2'));
    const extra = await open('127.0.0.2');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      extra.on('data', (c: Buffer) => (text += c.toString()));
      extra.once('close', () => resolve(text));
      extra.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 429/);
    expect(answer).toContain('RATE_LIMITED');

    const other = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/api/v1/health`, { localAddress: '127.0.0.3' });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end();
    });
    expect(other).toBe(200);

    // A connection freed is a connection the first client may open again.
    held.pop()!.destroy();
    await sleep(100);
    const again = await open('127.0.0.2');
    const ok = await new Promise<string>((resolve) => {
      again.once('data', (c: Buffer) => resolve(c.toString()));
      again.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
  });
});
