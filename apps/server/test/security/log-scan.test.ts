/**
 * QUALITY.md "No secret or token in logs": a full session of the API at `debug` level with
 * request logging on — passwords, tokens in headers, bodies and query strings, refresh,
 * logout, WebSocket, admin and metrics tokens, failures — and the captured log output is
 * searched for every secret that went through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WsClient } from '../realtime/ws-client.js';
import { TEST_JWT_SECRET } from '../support/app.js';
import { multipart } from '../support/contents.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

const PASSWORD = 'hunter2-Secret-Passw0rd';
const NEW_PASSWORD = 'Another-Secret-Passw0rd-42';
const WRONG_PASSWORD = 'Wrong-Guess-Passw0rd-77';
const ADMIN_TOKEN = 'admin-token-do-not-log-0123456789';
const METRICS_TOKEN = 'metrics-token-do-not-log-0123456789';

describe('log scan: no secret in the server log of a full session', () => {
  let t: LoggedApp;
  const secrets: string[] = [
    TEST_JWT_SECRET,
    PASSWORD,
    NEW_PASSWORD,
    WRONG_PASSWORD,
    ADMIN_TOKEN,
    METRICS_TOKEN,
  ];

  beforeAll(async () => {
    t = await createLoggedApp({
      level: 'trace',
      configure: (c) => {
        c.admin.token = ADMIN_TOKEN;
        c.metrics.enabled = true;
        c.metrics.token = METRICS_TOKEN;
      },
    });
  });
  afterAll(() => t.close());

  it('runs every kind of request and logs none of its secrets', async () => {
    const app = t.app;
    const json = { 'content-type': 'application/json' };
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room',
      payload: { password: PASSWORD },
    });
    expect(created.statusCode, created.body).toBe(201);
    // Wrong and right passwords, on both routes that take them.
    for (const password of [WRONG_PASSWORD, PASSWORD]) {
      await app.inject({
        method: 'POST',
        url: '/api/v1/rooms/log-room/password/verify',
        payload: { password },
      });
    }
    await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/tokens',
      payload: { password: WRONG_PASSWORD },
    });
    const entered = await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/tokens',
      payload: { password: PASSWORD, with_refresh_token: true },
    });
    expect(entered.statusCode, entered.body).toBe(200);
    const session = entered.json<{ token: string; refresh_token: string }>();
    secrets.push(session.token, session.refresh_token);
    const auth = { authorization: `Bearer ${session.token}` };

    await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/tokens/validate',
      payload: { token: session.token },
    });
    const msg = await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/messages',
      headers: { ...auth, ...json },
      payload: { text: 'hello' },
    });
    expect(msg.statusCode).toBe(201);
    const body = multipart([{ name: 'f.txt', content: Buffer.from('file') }]);
    const up = await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/contents',
      headers: { ...auth, ...body.headers },
      payload: body.payload,
    });
    const fileId = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    // Tokens in query strings (downloads, archives), valid and not.
    await app.inject({ url: `/api/v1/contents/${fileId}?token=${session.token}` });
    await app.inject({ url: `/api/v1/contents/${fileId}?disposition=inline&token=${session.token}` });
    await app.inject({ url: `/api/v1/rooms/log-room/archive?token=${session.token}` });
    await app.inject({ url: `/api/v1/rooms/log-room/archive?ids=1&token=${session.token}x` });
    await app.inject({ url: `/api/v1/rooms/log-room/contents?access_token=${session.token}` });
    // Refresh, rotation, settings with a new password.
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: session.refresh_token },
    });
    const rotated = refreshed.json<{ access_token: string; refresh_token: string }>();
    secrets.push(rotated.access_token, rotated.refresh_token);
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: session.refresh_token },
    });
    const settings = await app.inject({
      method: 'PUT',
      url: '/api/v1/rooms/log-room/settings',
      headers: { authorization: `Bearer ${rotated.access_token}` },
      payload: { password: NEW_PASSWORD },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    // Malformed JSON echoing a secret, and a schema violation with one.
    await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/password/verify',
      headers: json,
      payload: `{"password": "${NEW_PASSWORD}"`,
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/rooms/log-room/tokens',
      headers: json,
      payload: { password: NEW_PASSWORD, token: 5 },
    });
    // WebSocket handshake with the token, then a bad one.
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    const wsUrl = `ws://127.0.0.1:${address.port}/api/v1/ws`;
    const ws = await WsClient.connect(wsUrl, rotated.access_token, 'log-room');
    ws.send('garbage');
    await ws.next('error');
    ws.socket.close();
    await ws.closed;
    const bad = await WsClient.open(wsUrl);
    bad.send({ message_type: 'connect', payload: { token: session.token, room_name: 'log-room' } });
    await bad.closed;
    // Admin and metrics with their tokens, and wrong ones.
    await app.inject({ url: '/api/v1/admin/rooms', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await app.inject({ url: '/api/v1/admin/rooms', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    await app.inject({ url: `/metrics?token=${METRICS_TOKEN}` });
    // Logout with the token in the body.
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { access_token: rotated.access_token },
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { access_token: rotated.access_token },
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/admin/gc',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });

    // The capture really saw the traffic (request logging on, debug level).
    expect(t.logs.lines.length).toBeGreaterThan(30);
    expect(t.logs.text).toContain('/api/v1/contents/');
    const text = t.logs.text;
    for (const secret of secrets) {
      const hit = t.logs.lines.find((l) => l.includes(secret));
      if (hit) console.log('LEAK', hit.replace(secret, '<SECRET>').slice(0, 600));
      expect(text.includes(secret), `secret ${secret.slice(0, 6)}… found in the log`).toBe(false);
    }
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}/);
    // Password hashes are secrets too.
    expect(text).not.toMatch(/\$argon2|\$2[aby]\$|scrypt\$/);
  });
});
