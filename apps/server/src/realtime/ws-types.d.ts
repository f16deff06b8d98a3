/**
 * The slice of `ws` this server and its tests use. The package ships no types and adding
 * `@types/ws` would touch the lockfile; `@fastify/websocket`'s own typings import this module,
 * so the handler's socket gets these types too.
 */
declare module 'ws' {
  import { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';

  type RawData = Buffer | ArrayBuffer | Buffer[];

  class WebSocket extends EventEmitter {
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSING: 2;
    static readonly CLOSED: 3;
    constructor(
      address: string,
      options?: { headers?: Record<string, string>; handshakeTimeout?: number; autoPong?: boolean },
    );
    readonly readyState: 0 | 1 | 2 | 3;
    readonly bufferedAmount: number;
    send(data: string | Buffer, cb?: (err?: Error) => void): void;
    send(data: string | Buffer, options: { binary?: boolean }, cb?: (err?: Error) => void): void;
    ping(data?: string | Buffer, mask?: boolean, cb?: (err?: Error) => void): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'open' | 'ping' | 'pong', listener: () => void): this;
    on(event: 'unexpected-response', listener: (req: unknown, res: IncomingMessage) => void): this;
    once(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
    once(event: 'open' | 'ping' | 'pong', listener: () => void): this;
    off(event: string, listener: (...args: never[]) => void): this;
  }

  interface ServerOptions {
    maxPayload?: number;
    clientTracking?: boolean;
    perMessageDeflate?: boolean;
    noServer?: boolean;
    path?: string;
    server?: unknown;
  }

  class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions);
    readonly clients: Set<WebSocket>;
    close(cb?: (err?: Error) => void): void;
  }

  export { type RawData, type ServerOptions, WebSocketServer as Server, WebSocket, WebSocketServer };
  export default WebSocket;
}
