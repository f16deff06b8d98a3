import { WS_CLOSE } from '@elizabeth/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_INVALID_FRAMES } from '../../src/realtime/realtime-gateway.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, createRoom, enter } from '../support/rooms.js';
import { listen, WsClient } from './ws-client.js';

const manager = { edit: true, share: true, delete: true };

describe('WebSocket gateway', () => {
  let t: TestApp;
  let url: string;
  const clients: WsClient[] = [];
  let roomCounter = 0;

  beforeAll(async () => {
    t = await createTestApp({
      configure: (config) => {
        config.realtime.ping_interval_seconds = 0.2;
        config.realtime.connect_timeout_seconds = 0.3;
        config.realtime.max_connections_per_room = 3;
      },
    });
    url = await listen(t.app);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.close();
  });

  const track = <T extends WsClient>(client: T): T => {
    clients.push(client);
    return client;
  };
  const connect = async (token: string, room: string) => track(await WsClient.connect(url, token, room));
  const open = async (options?: { autoPong?: boolean }) => track(await WsClient.open(url, options));
  /** A fresh room with full permissions and `n` sessions. */
  const room = async (n = 2) => {
    const name = `ws-room-${++roomCounter}`;
    await createRoom(t.app, name, { max_times_entered: 50 });
    const sessions = [];
    for (let i = 0; i < n; i += 1) sessions.push(await enter(t.app, name));
    return { name, sessions };
  };

  it('acknowledges connect with the room, the session and the online count; joins are announced', async () => {
    const { name, sessions } = await room();
    const a = await connect(sessions[0]!.token, name);
    expect(a.ack.payload).toMatchObject({
      room: { name, slug: name },
      session: { jti: sessions[0]!.claims.jti, permission: sessions[0]!.claims.permission },
      online: 1,
    });
    expect(typeof a.ack.timestamp).toBe('number');
    expect((await a.next('user_joined')).payload).toMatchObject({ online: 1 });

    const b = await connect(sessions[1]!.token, name);
    expect(b.ack.payload.online).toBe(2);
    expect((await a.next('user_joined')).payload).toMatchObject({ online: 2 });

    await b.close();
    expect((await a.next('user_left')).payload).toMatchObject({ online: 1 });
  });

  it('delivers room events to every socket of the room, in order', async () => {
    const { name, sessions } = await room();
    const a = await connect(sessions[0]!.token, name);
    const b = await connect(sessions[1]!.token, name);
    for (let i = 0; i < 20; i += 1) {
      const res = await t.app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/${name}/settings`,
        headers: bearer(sessions[i % 2]!.token),
        payload: { max_times_entered: 100 + i },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    for (const client of [a, b]) {
      const seen = [];
      for (let i = 0; i < 20; i += 1) {
        const frame = await client.next('room_updated');
        expect(frame.payload.reason).toBe('settings_changed');
        seen.push(frame.payload.room.max_times_entered);
      }
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    }
  });

  it('permission changes reach everyone; clearing SHARE closes the sockets of the old address', async () => {
    const { name, sessions } = await room();
    const a = await connect(sessions[0]!.token, name);
    const b = await connect(sessions[1]!.token, name);
    const change = (body: object) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${name}/permissions`,
        headers: bearer(sessions[0]!.token),
        payload: body,
      });
    expect((await change({ edit: false, share: true, delete: true })).statusCode).toBe(200);
    for (const client of [a, b]) {
      const frame = await client.next('room_updated');
      expect(frame.payload).toMatchObject({ reason: 'permissions_changed', room: { permission: 1 | 4 | 8 } });
    }

    expect((await change({ ...manager, share: false })).statusCode).toBe(200);
    for (const client of [a, b]) {
      expect((await client.next('error')).payload.code).toBe('address_changed');
      expect((await client.expectClose()).code).toBe(WS_CLOSE.ADDRESS_CHANGED);
      // The private address is not told to those who only knew the public one.
      expect(client.frames.filter((f) => f.message_type === 'room_updated')).toHaveLength(1);
    }
  });

  it('revoking one session closes only that session’s sockets', async () => {
    const { name, sessions } = await room(2);
    const [mine, other] = sessions;
    const a1 = await connect(other!.token, name);
    const a2 = await connect(other!.token, name);
    const b = await connect(mine!.token, name);

    const listed = await t.app.inject({ url: `/api/v1/rooms/${name}/tokens`, headers: bearer(mine!.token) });
    const connected = Object.fromEntries(
      listed.json<Array<{ jti: string; connected: boolean }>>().map((s) => [s.jti, s.connected]),
    );
    expect(connected).toEqual({ [mine!.claims.jti]: true, [other!.claims.jti]: true });

    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/rooms/${name}/tokens/${other!.claims.jti}`,
      headers: bearer(mine!.token),
    });
    expect(res.json()).toEqual({ revoked: true });
    for (const client of [a1, a2]) {
      expect((await client.next('error')).payload.code).toBe('session_revoked');
      expect((await client.expectClose()).code).toBe(WS_CLOSE.SESSION_REVOKED);
    }
    // b stays: it hears the two departures and nothing forces it out.
    await b.next('user_left');
    expect((await b.next('user_left')).payload).toMatchObject({ online: 1 });
    b.send({ message_type: 'ping', payload: null });
    await b.next('pong');
    expect(b.unread('error')).toEqual([]);
  });

  it('a password change closes the other sessions’ sockets and keeps the caller’s', async () => {
    const { name, sessions } = await room(2);
    const caller = await connect(sessions[0]!.token, name);
    const other = await connect(sessions[1]!.token, name);
    const res = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/rooms/${name}/settings`,
      headers: bearer(sessions[0]!.token),
      payload: { password: 'new-secret' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((await other.next('error')).payload.code).toBe('password_changed');
    expect((await other.expectClose()).code).toBe(WS_CLOSE.PASSWORD_CHANGED);
    expect((await caller.next('room_updated')).payload.room.password_protected).toBe(true);
    caller.send({ message_type: 'ping' });
    await caller.next('pong');
  });

  it('deleting the room closes every socket with room_deleted', async () => {
    const { name, sessions } = await room(1);
    const a = await connect(sessions[0]!.token, name);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/rooms/${name}`,
      headers: bearer(sessions[0]!.token),
    });
    expect(res.statusCode).toBe(200);
    expect((await a.next('error')).payload.code).toBe('room_deleted');
    expect(await a.expectClose()).toEqual({ code: WS_CLOSE.ROOM_DELETED, reason: 'room_deleted' });
  });

  it('answers JSON ping with pong, malformed frames with error, and closes after repeated garbage', async () => {
    const { name, sessions } = await room(1);
    const a = await connect(sessions[0]!.token, name);
    a.send({ message_type: 'ping', payload: null, timestamp: Date.now() });
    expect((await a.next('pong')).payload).toBeNull();
    a.send({ message_type: 'ping' });
    await a.next('pong');

    a.send({ message_type: 'connect', payload: { token: sessions[0]!.token, room_name: name } });
    expect((await a.next('error')).payload.code).toBe('already_connected');
    const garbage = ['not json', '{"message_type":"dance"}', '[]', '{"message_type":"ping","timestamp":"x"}'];
    for (const text of garbage) {
      a.send(text);
      expect((await a.next('error')).payload).toMatchObject({ code: 'invalid_frame' });
    }
    expect(garbage.length).toBe(MAX_INVALID_FRAMES - 1);
    a.send('still not json');
    expect((await a.next('error')).payload.code).toBe('invalid_frame');
    expect((await a.expectClose()).code).toBe(WS_CLOSE.INVALID_FRAME);
  });

  it('refuses a bad first frame, a bad token, an unknown room and a silent client', async () => {
    const notConnect = await open();
    notConnect.send({ message_type: 'ping' });
    expect((await notConnect.next('error')).payload.code).toBe('connect_required');
    expect((await notConnect.expectClose()).code).toBe(WS_CLOSE.INVALID_FRAME);

    const { name, sessions } = await room(1);
    const badToken = await open();
    badToken.send({ message_type: 'connect', payload: { token: 'nope', room_name: name } });
    expect((await badToken.next('error')).payload.code).toBe('AUTHENTICATION_FAILED');
    expect((await badToken.expectClose()).code).toBe(WS_CLOSE.AUTHENTICATION_FAILED);

    const otherRoom = await open();
    otherRoom.send({
      message_type: 'connect',
      payload: { token: sessions[0]!.token, room_name: 'elsewhere' },
    });
    expect((await otherRoom.next('error')).payload.code).toBe('AUTHENTICATION_FAILED');
    await otherRoom.expectClose();

    const silent = await open();
    expect((await silent.next('error')).payload.code).toBe('connect_timeout');
    expect((await silent.expectClose()).code).toBe(WS_CLOSE.CONNECT_TIMEOUT);
    expect(silent.frames).toHaveLength(1);
  });

  it('refuses a socket over the per-room limit', async () => {
    const { name, sessions } = await room(1);
    for (let i = 0; i < 3; i += 1) await connect(sessions[0]!.token, name);
    const extra = await open();
    extra.send({ message_type: 'connect', payload: { token: sessions[0]!.token, room_name: name } });
    expect((await extra.next('error')).payload.code).toBe('room_full');
    expect((await extra.expectClose()).code).toBe(WS_CLOSE.TOO_MANY_CONNECTIONS);
  });

  it('drops a socket that stops answering protocol pings', async () => {
    const { name, sessions } = await room(1);
    const deaf = await open({ autoPong: false });
    deaf.send({ message_type: 'connect', payload: { token: sessions[0]!.token, room_name: name } });
    await deaf.next('connect_ack');
    const closed = await deaf.expectClose(3_000);
    expect(closed.code).toBe(1006);
    // A socket that answers stays.
    const alive = await connect(sessions[0]!.token, name);
    await new Promise((resolve) => setTimeout(resolve, 700));
    alive.send({ message_type: 'ping' });
    await alive.next('pong');
  });

  it('reports open sockets in /status and refuses a plain GET', async () => {
    const { name, sessions } = await room(1);
    await connect(sessions[0]!.token, name);
    const status = await t.app.inject({ url: '/api/v1/status' });
    const realtime = status.json<{ realtime: Record<string, unknown> }>().realtime;
    expect(realtime).toMatchObject({ bus: 'memory', bus_connected: true });
    expect(realtime.connections).toBeGreaterThanOrEqual(1);
    expect(realtime.rooms).toBeGreaterThanOrEqual(1);

    const plain = await t.app.inject({ url: '/api/v1/ws' });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error.code).toBe('VALIDATION_ERROR');
  });
});

describe('WebSocket gateway limits and shutdown', () => {
  it('refuses sockets over the server limit and closes the rest with 1001 on shutdown', async () => {
    const t = await createTestApp({ configure: (config) => (config.realtime.max_connections = 1) });
    try {
      const url = await listen(t.app);
      await createRoom(t.app, 'limit-room');
      const { token } = await enter(t.app, 'limit-room');
      const first = await WsClient.connect(url, token, 'limit-room');
      const second = await WsClient.open(url);
      expect((await second.next('error')).payload.code).toBe('too_many_connections');
      expect((await second.expectClose()).code).toBe(WS_CLOSE.TOO_MANY_CONNECTIONS);
      await t.app.close();
      expect((await first.expectClose()).code).toBe(WS_CLOSE.GOING_AWAY);
    } finally {
      await t.close();
    }
  });
});
