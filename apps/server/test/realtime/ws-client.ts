import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';

export interface Frame {
  message_type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read payload fields freely
  payload: any;
  timestamp: number;
}

/** Listens on 127.0.0.1 with a free port; returns the WebSocket URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('not listening');
  return `ws://127.0.0.1:${address.port}/api/v1/ws`;
}

/**
 * A test client over a real socket: records every frame in arrival order; `next` hands them out
 * one by one (optionally the next of one type), waiting when none has arrived yet.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  private readonly pending: Frame[] = [];
  private waiter?: () => void;
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      this.pending.push(frame);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.waiter?.();
      });
    });
  }

  static open(url: string, options: { autoPong?: boolean } = {}): Promise<WsClient> {
    const socket = new WebSocket(url, options);
    const client = new WsClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  /** Opens and connects; resolves with the `connect_ack` frame. */
  static async connect(url: string, token: string, roomName: string): Promise<WsClient & { ack: Frame }> {
    const client = await WsClient.open(url);
    client.send({ message_type: 'connect', payload: { token, room_name: roomName } });
    const ack = await client.next();
    if (ack.message_type !== 'connect_ack')
      throw new Error(`expected connect_ack, got ${JSON.stringify(ack)}`);
    return Object.assign(client, { ack });
  }

  send(frame: object | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next unread frame (of this type, skipping others), within `timeoutMs`. */
  async next(type?: string, timeoutMs = 5_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.pending.findIndex((f) => type === undefined || f.message_type === type);
      if (index >= 0) return this.pending.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`no ${type ?? 'frame'} within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves with the close; fails if the socket stays open past `timeoutMs`. */
  async expectClose(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Frames of a type not read yet (for "nothing else arrived" checks). */
  unread(type?: string): Frame[] {
    return this.pending.filter((f) => type === undefined || f.message_type === type);
  }

  close(): Promise<unknown> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.socket.close();
    return this.closed;
  }
}
