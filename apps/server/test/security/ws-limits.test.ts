/**
 * Issue 16 item 6: one address opened 1 000 sockets in rooms it created until the global
 * limit was reached, and another room's user was refused. Each client address has its own
 * cap; a client at its cap is refused (4429) while another address still connects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listen, WsClient } from '../realtime/ws-client.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createRoom, enter } from '../support/rooms.js';

describe('WebSocket limits per client address', () => {
  let t: TestApp;
  let url: string;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    t = await createTestApp({
      configure: (c) => {
        c.realtime.max_connections = 6;
        c.realtime.max_connections_per_client = 3;
      },
    });
    url = await listen(t.app);
    for (const room of ['ws-a1', 'ws-a2', 'ws-b']) await createRoom(t.app, room);
  });
  afterAll(async () => {
    for (const c of clients) c.socket.terminate();
    await t.close();
  });

  const open = async (localAddress: string, room: string) => {
    const client = await WsClient.open(url, { localAddress } as never);
    clients.push(client);
    const { token } = await enter(t.app, room);
    client.send({ message_type: 'connect', payload: { token, room_name: room } });
    return client;
  };

  it('one address over its cap is refused; another address is served', async () => {
    for (let i = 0; i < 3; i += 1) {
      const c = await open('127.0.0.2', i % 2 === 0 ? 'ws-a1' : 'ws-a2');
      expect((await c.next()).message_type).toBe('connect_ack');
    }
    const over = await open('127.0.0.2', 'ws-a2');
    const closed = await over.closed;
    expect(closed.code).toBe(4429);
    const other = await open('127.0.0.3', 'ws-b');
    expect((await other.next()).message_type).toBe('connect_ack');
  });
});
