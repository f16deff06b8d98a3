import { WsServerFrame } from '@elizabeth/protocol';
import { afterAll, beforeAll, expect } from 'vitest';

import type { DatabaseEngine } from './db.js';
import { HttpClient } from '../realtime/http-client.js';
import { type Frame, WsClient } from '../realtime/ws-client.js';
import { type ContentsTestApp, createContentsApp, listen } from './contents.js';

export interface SocketSuite {
  /** The app of the suite (valid inside tests and hooks). */
  readonly t: ContentsTestApp;
  /** Its address on a real port, for HTTP clients and WebSockets. */
  readonly base: string;
  /** An HTTP client of the suite's server with this token. */
  http: (token: string) => HttpClient;
  /** A WebSocket of `http`'s session in `room`, closed after the suite. */
  connect: (http: HttpClient, room: string) => Promise<WsClient & { ack: Frame }>;
}

/**
 * Registers hooks that start a contents app (storage, collected events) listening on a real
 * port for the enclosing suite, and close it and every socket `connect` opened after it.
 */
export function socketSuite(engine: DatabaseEngine, env: Record<string, string> = {}): SocketSuite {
  let app: ContentsTestApp | undefined;
  let base: string | undefined;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    app = await createContentsApp({ engine, env });
    base = await listen(app.app);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await app?.close();
  });
  const started = () => {
    if (!app || base === undefined) throw new Error('socketSuite: the app is started in beforeAll');
    return { app, base };
  };
  return {
    get t() {
      return started().app;
    },
    get base() {
      return started().base;
    },
    http: (token) => new HttpClient(started().base, token),
    async connect(http, room) {
      const socket = await WsClient.connect(http.wsUrl, http.token, room);
      sockets.push(socket);
      return socket;
    },
  };
}

/** Every frame a socket got must be a valid server frame of the protocol. */
export function expectValidFrames(socket: WsClient): void {
  for (const frame of socket.frames)
    expect(WsServerFrame.safeParse(frame).success, JSON.stringify(frame)).toBe(true);
}
