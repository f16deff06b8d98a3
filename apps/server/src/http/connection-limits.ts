import type { Server, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

import proxyaddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';

export interface ConnectionLimits {
  /** Time a client has to send the request line and headers, seconds. */
  headers_timeout_seconds: number;
  /** A request body must finish, or deliver `body_min_bytes`, within every such window, seconds. */
  body_timeout_seconds: number;
  body_min_bytes: number;
  /** Open connections per peer address (trusted proxies exempt). */
  max_connections_per_client: number;
}

/** Whether a TCP peer is a trusted proxy (its connections carry many clients). */
export function trustedPeer(trusted: string[]): (address: string) => boolean {
  if (trusted.length === 0) return () => false;
  const only = trusted.length === 1 ? trusted[0]!.trim().toLowerCase() : '';
  if (only === 'false') return () => false;
  // `true` or a hop count: the first hop is a proxy whatever its address.
  if (only === 'true' || /^\d+$/.test(only)) return () => only !== '0';
  const trust = proxyaddr.compile(trusted);
  return (address) => trust(address, 0);
}

const TOO_MANY = JSON.stringify({
  error: { code: 'RATE_LIMITED', message: 'Too many open connections from this address', status: 429 },
});
const TOO_MANY_RESPONSE =
  'HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\n' +
  `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(TOO_MANY)}\r\n\r\n${TOO_MANY}`;

/** Refuses a new connection from a peer that already has `max` open (with a 429 and close). */
function capConnectionsPerPeer(server: Server, max: number, exempt: (address: string) => boolean): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (exempt(address)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.end(TOO_MANY_RESPONSE);
      socket.destroySoon();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/**
 * Cuts a request body that stalls: within every `windowMs` it must complete or the socket must
 * deliver `minBytes`. Progress-based, not a total time, so an upload of many GiB that keeps
 * flowing is never cut, while one byte every few seconds is. A body the server itself is not
 * reading (its buffer is full: storage backpressure) does not count as a stall.
 */
function watchBodyProgress(request: IncomingMessage, windowMs: number, minBytes: number): void {
  const socket = request.socket;
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    if (request.complete || request.destroyed || socket.destroyed) {
      clearInterval(timer);
      return;
    }
    const read = socket.bytesRead;
    const backpressure = request.readableLength >= request.readableHighWaterMark || socket.isPaused();
    if (read - last < minBytes && !backpressure) {
      clearInterval(timer);
      socket.destroy();
      return;
    }
    last = read;
  }, windowMs);
  timer.unref();
  request.once('close', () => clearInterval(timer));
}

const hasBody = (request: IncomingMessage) =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

/** Header and body timeouts and the per-client connection cap on the app's HTTP server. */
export function installConnectionLimits(
  app: FastifyInstance,
  limits: ConnectionLimits,
  trustedProxies: string[],
): void {
  const server = app.server;
  server.headersTimeout = limits.headers_timeout_seconds * 1000;
  capConnectionsPerPeer(server, limits.max_connections_per_client, trustedPeer(trustedProxies));
  const windowMs = limits.body_timeout_seconds * 1000;
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    // Injected requests (app.inject) have no real socket.
    if (raw.complete === false && hasBody(raw) && typeof raw.socket?.bytesRead === 'number') {
      watchBodyProgress(raw, windowMs, limits.body_min_bytes);
    }
    done();
  });
}
