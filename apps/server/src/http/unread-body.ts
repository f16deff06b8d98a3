import type { IncomingMessage } from 'node:http';

import type { FastifyInstance } from 'fastify';

/** After an answer sent before its request body was read: how much more is drained, and for how long. */
export const UNREAD_BODY_DRAIN_BYTES = 8 * 1024 * 1024;
export const UNREAD_BODY_DRAIN_MS = 2_000;

/**
 * An answer sent while the request body is still unread (an upload refused for its quota, its
 * token or its reservation before the bytes were consumed) says `Connection: close`: the socket
 * still carries the rest of that body, so the client must not send another request on it.
 * Node reads and discards the rest after the answer; that draining is bounded in bytes and
 * time, then the socket is closed, so a refused multi-GiB upload does not keep streaming in.
 */
/** A request whose body is not fully received (`complete` is Node's; injected requests lack it). */
const unread = (raw: IncomingMessage) => raw.complete === false;

export function installUnreadBodyGuard(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (unread(request.raw)) reply.header('Connection', 'close');
    done(null, payload);
  });

  app.addHook('onResponse', (request, _reply, done) => {
    done();
    const raw = request.raw;
    if (!unread(raw) || raw.destroyed) return;
    let drained = 0;
    const cut = () => {
      clearTimeout(timer);
      raw.off('data', count);
      if (!raw.complete) raw.socket?.destroy();
    };
    const count = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > UNREAD_BODY_DRAIN_BYTES) cut();
    };
    const timer = setTimeout(cut, UNREAD_BODY_DRAIN_MS);
    timer.unref();
    raw.on('data', count);
    raw.once('end', () => {
      clearTimeout(timer);
      raw.off('data', count);
    });
    raw.once('close', () => clearTimeout(timer));
  });
}
