/**
 * Issue 15 (message posts): `middleware.tracing` writes one line per request, when its answer
 * is sent, at `tracing.level`, with method, redacted URL, status and time; Fastify's own two
 * lines per request ("incoming request" + "request completed") were measurable CPU on small
 * requests. Without tracing no request line is written.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { createLoggedApp, type LoggedApp } from '../security/logged-app.js';
import { createRoom, enter } from '../support/rooms.js';

describe('request log', () => {
  let t: LoggedApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('one line per request, written with the answer: method, redacted URL, status, time', async () => {
    t = await createLoggedApp({ level: 'info' });
    await createRoom(t.app, 'one-line');
    const { token } = await enter(t.app, 'one-line');
    const before = t.logs.lines.length;
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/one-line/messages?token=${token}`,
      payload: { text: 'hello' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const lines = t.logs.entries().slice(before);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.level).toBe(30);
    expect(line.msg).toBe('request completed');
    expect(line.reqId).toBe(res.headers['x-request-id']);
    expect(line.req).toMatchObject({
      method: 'POST',
      url: '/api/v1/rooms/one-line/messages?token=[REDACTED]',
    });
    expect(line.res).toEqual({ statusCode: 201 });
    expect(typeof line.responseTime).toBe('number');
    expect(JSON.stringify(line)).not.toContain(token);
  });

  it('an error answer is logged with its status; tracing.level sets the level', async () => {
    t = await createLoggedApp({ level: 'debug', configure: (c) => (c.middleware.tracing.level = 'debug') });
    const before = t.logs.lines.length;
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/rooms/nobody-here/contents' });
    expect(res.statusCode).toBe(401);
    const lines = t.logs
      .entries()
      .slice(before)
      .filter((e) => e.msg === 'request completed');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(20);
    expect(lines[0]!.res).toEqual({ statusCode: 401 });
    expect(t.logs.entries().some((e) => e.msg === 'incoming request')).toBe(false);
  });

  it('no request lines without tracing', async () => {
    t = await createLoggedApp({ level: 'debug', configure: (c) => (c.middleware.tracing.enabled = false) });
    const before = t.logs.lines.length;
    await t.app.inject({ method: 'GET', url: '/api/v1/health' });
    const lines = t.logs.entries().slice(before);
    expect(lines.filter((e) => e.msg === 'request completed' || e.msg === 'incoming request')).toEqual([]);
  });
});
