/**
 * Issue 16 item 3: an error answered while the request body is still unread (413 QUOTA_EXCEEDED
 * on a one-shot upload, 400 on a two-step upload whose file does not match its reservation)
 * was sent with `Connection: keep-alive`; the client's next request on that socket hung or got
 * ECONNRESET. Each failing upload here goes over a real keep-alive socket (one socket for
 * the agent), then an unrelated request follows on the same agent.
 */
import { Agent, request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createContentsApp, listen, multipart, type ContentsTestApp } from '../support/contents.js';
import { bearer, createRoom, enter } from '../support/rooms.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through `agent`; the body is written in 64 KiB chunks as fast as the socket takes it. */
function send(
  agent: Agent,
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: Buffer },
  timeoutMs = 5_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent,
      method: options.method,
      headers: {
        ...options.headers,
        ...(options.body ? { 'content-length': String(options.body.length) } : {}),
      },
    });
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to ${options.method} ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    // Once the answer is in, a reset while the rest of the body was still being written is expected.
    req.on('error', (error) => {
      if (!answered) {
        clearTimeout(timer);
        reject(error);
      }
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        answered = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts).toString('utf8'),
        });
      });
    });
    const body = options.body;
    if (!body) {
      req.end();
      return;
    }
    let offset = 0;
    const pump = () => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + 64 * 1024);
        offset += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('early error answers on unread upload bodies close the connection', () => {
  let t: ContentsTestApp;
  let base: string;
  let token: string;
  let agent: Agent;

  beforeAll(async () => {
    t = await createContentsApp();
    base = await listen(t.app);
    await createRoom(t.app, 'early', { max_size: 1024 * 1024 });
    token = (await enter(t.app, 'early')).token;
  });
  afterAll(async () => {
    agent?.destroy();
    await t.close();
  });

  const freshAgent = () => {
    agent?.destroy();
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return agent;
  };

  const nextRequestWorks = async (a: Agent) => {
    const health = await send(a, `${base}/api/v1/health`, { method: 'GET' });
    expect(health.status).toBe(200);
  };

  it('413 QUOTA_EXCEEDED on a one-shot upload, then another request on the same agent', async () => {
    const a = freshAgent();
    const body = multipart([{ name: 'big.bin', content: Buffer.alloc(16 * 1024 * 1024, 7) }]);
    const res = await send(a, `${base}/api/v1/rooms/early/contents`, {
      method: 'POST',
      headers: { ...bearer(token), ...body.headers },
      body: body.payload,
    });
    expect(res.status, res.body).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('QUOTA_EXCEEDED');
    expect(res.headers.connection).toBe('close');
    await nextRequestWorks(a);
  });

  it('400 on a two-step upload whose file is larger than reserved, then another request', async () => {
    const a = freshAgent();
    const prepared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/early/contents/prepare',
      headers: bearer(token),
      payload: { files: [{ name: 'r.bin', size: 10 }] },
    });
    expect(prepared.statusCode, prepared.body).toBe(200);
    const id = prepared.json<{ reservation_id: number }>().reservation_id;
    const body = multipart([{ name: 'r.bin', content: Buffer.alloc(16 * 1024 * 1024, 1) }]);
    const res = await send(a, `${base}/api/v1/rooms/early/contents?reservation_id=${id}`, {
      method: 'POST',
      headers: { ...bearer(token), ...body.headers },
      body: body.payload,
    });
    expect(res.status, res.body).toBeGreaterThanOrEqual(400);
    expect(res.status, res.body).toBeLessThan(500);
    expect(res.headers.connection).toBe('close');
    await nextRequestWorks(a);
  });

  it('401 before a large body is read (no token), then another request', async () => {
    const a = freshAgent();
    const body = multipart([{ name: 'x.bin', content: Buffer.alloc(16 * 1024 * 1024, 2) }]);
    const res = await send(a, `${base}/api/v1/rooms/early/contents`, {
      method: 'POST',
      headers: body.headers,
      body: body.payload,
    });
    expect(res.status, res.body).toBe(401);
    expect(res.headers.connection).toBe('close');
    await nextRequestWorks(a);
  });

  it('a fully read request keeps its connection alive', async () => {
    const a = freshAgent();
    const res = await send(a, `${base}/api/v1/rooms/early/messages`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ text: 'kept alive' })),
    });
    expect(res.status, res.body).toBe(201);
    expect(res.headers.connection).toBe('keep-alive');
    const bad = await send(a, `${base}/api/v1/rooms/early/messages`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: Buffer.from('{"text": 5}'),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.connection).toBe('keep-alive');
    await nextRequestWorks(a);
  });
});
