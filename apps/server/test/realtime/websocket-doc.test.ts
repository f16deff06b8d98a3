import { readFileSync } from 'node:fs';

import { WS_CLOSE, WsErrorCode, WsServerFrame } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { MAX_BUFFERED_BYTES, MAX_INVALID_FRAMES } from '../../src/realtime/realtime-gateway.js';
import { MAX_CLIENT_FRAME_BYTES } from '../../src/realtime/ws.routes.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, createRoom, enter } from '../support/rooms.js';
import { listen, WsClient } from './ws-client.js';

const doc = readFileSync(new URL('../../../../docs/WEBSOCKET.md', import.meta.url), 'utf8');
const section = (title: string) => {
  const start = doc.indexOf(`## ${title}`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
};

/** docs/WEBSOCKET.md is checked against the code: tables against constants, the example by replaying it. */
describe('docs/WEBSOCKET.md matches the server', () => {
  it('lists every close code and every error code the server uses', () => {
    const closes = section('Closes');
    const documented = new Set<number>();
    for (const row of closes.matchAll(/^\| ([\d /]+?)\s*\|/gm)) {
      for (const code of row[1]!.split('/')) documented.add(Number(code.trim()));
    }
    // 1006 and 1009 come from the WebSocket library (dropped socket, oversized frame).
    expect([...documented].sort()).toEqual([...new Set([...Object.values(WS_CLOSE), 1006, 1009])].sort());
    for (const code of WsErrorCode.options) expect(doc, code).toContain(`\`${code}\``);
    expect(closes).toContain(`${String(MAX_INVALID_FRAMES)}th malformed frame`);
  });

  it('states the configuration defaults and the fixed limits of the code', () => {
    const { config } = loadConfig({ env: {}, cwd: '/nonexistent-elz', homeDir: '/nonexistent-elz' });
    const limits = section('Liveness and limits');
    const row = (key: string) => {
      const match = new RegExp(`^\\| \`realtime\\.${key}\`\\s*\\|\\s*([\\d ]+?)\\s*\\|`, 'm').exec(limits);
      expect(match, key).not.toBeNull();
      return Number(match![1]!.replace(/ /g, ''));
    };
    expect(row('connect_timeout_seconds')).toBe(config.realtime.connect_timeout_seconds);
    expect(row('ping_interval_seconds')).toBe(config.realtime.ping_interval_seconds);
    expect(row('max_connections')).toBe(config.realtime.max_connections);
    expect(row('max_connections_per_room')).toBe(config.realtime.max_connections_per_room);
    expect(limits).toContain(`limited to ${MAX_CLIENT_FRAME_BYTES / 1024} KiB`);
    expect(limits).toContain(`once ${MAX_BUFFERED_BYTES / 1024 / 1024} MiB wait unsent`);
  });
});

describe('docs/WEBSOCKET.md on a real socket', () => {
  let t: TestApp;
  let url: string;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    t = await createTestApp();
    url = await listen(t.app);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.close();
  });

  it('closes a socket that sends a frame over the size limit with 1009; one at the limit is read', async () => {
    await createRoom(t.app, 'frame-size');
    const { token } = await enter(t.app, 'frame-size');
    const client = await WsClient.connect(url, token, 'frame-size');
    clients.push(client);
    const padded = (bytes: number) => {
      const frame = { message_type: 'ping', payload: '' };
      const overhead = Buffer.byteLength(JSON.stringify(frame));
      return JSON.stringify({ ...frame, payload: 'x'.repeat(bytes - overhead) });
    };
    client.send(padded(MAX_CLIENT_FRAME_BYTES));
    expect((await client.next('pong')).payload).toBeNull();
    client.send(padded(MAX_CLIENT_FRAME_BYTES + 1));
    expect((await client.expectClose()).code).toBe(1009);
  });

  it('the example session happens as written', async () => {
    const example = section('Example session');
    const written = [...example.matchAll(/^← \{"message_type":"(\w+)"/gm)].map((m) => m[1]);
    const close = /^← close (\d+) "(\w+)"$/m.exec(example);
    const revokedError =
      /\{"message_type":"error","payload":(\{"code":"session_revoked","message":"[^"]+"\})/.exec(
        example.replace(/\n\s+/g, ''),
      );
    expect(written.length).toBeGreaterThan(5);
    expect(close).not.toBeNull();
    expect(revokedError).not.toBeNull();

    await createRoom(t.app, 'team-drop');
    const me = await enter(t.app, 'team-drop');
    const other = await enter(t.app, 'team-drop');
    const idle = await enter(t.app, 'team-drop');
    const otherSocket = await WsClient.connect(url, other.token, 'team-drop');
    clients.push(otherSocket);

    // → connect
    const socket = await WsClient.connect(url, me.token, 'team-drop');
    clients.push(socket);
    expect(socket.ack.payload).toMatchObject({
      room: { name: 'team-drop', slug: 'team-drop' },
      session: { jti: me.claims.jti, permission: 15 },
      online: 2,
    });
    expect((await socket.next()).payload).toMatchObject({ online: 2 });
    // → ping
    socket.send({ message_type: 'ping' });
    expect((await socket.next()).payload).toBeNull();
    // someone posts "hello"
    const posted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/team-drop/messages',
      headers: bearer(other.token),
      payload: { text: 'hello' },
    });
    expect(posted.statusCode).toBe(201);
    expect((await socket.next()).payload).toMatchObject({
      room_name: 'team-drop',
      content: { content_type: 'text', text: 'hello' },
    });
    // a manager changes the settings
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/rooms/team-drop/settings',
      headers: bearer(other.token),
      payload: { max_times_entered: 50 },
    });
    expect(settings.statusCode).toBe(200);
    expect((await socket.next()).payload).toMatchObject({
      room: { max_times_entered: 50 },
      reason: 'settings_changed',
    });
    // the other socket leaves
    await otherSocket.close();
    expect((await socket.next()).payload).toMatchObject({ online: 1 });
    // another session is revoked: the session list changed
    const revoke = (jti: string) =>
      t.app.inject({
        method: 'DELETE',
        url: `/api/v1/rooms/team-drop/tokens/${jti}`,
        headers: bearer(other.token),
      });
    expect((await revoke(idle.claims.jti)).statusCode).toBe(200);
    expect((await socket.next()).payload).toEqual({ reason: 'sessions_revoked' });
    // this session is revoked
    expect((await revoke(me.claims.jti)).statusCode).toBe(200);
    expect((await socket.next()).payload).toEqual(JSON.parse(revokedError![1]!));
    expect(await socket.expectClose()).toEqual({ code: Number(close![1]), reason: close![2] });

    expect(socket.frames.map((f) => f.message_type)).toEqual(written);
    for (const frame of socket.frames) {
      expect(WsServerFrame.safeParse(frame).success, JSON.stringify(frame)).toBe(true);
    }
  });
});
