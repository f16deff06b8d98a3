import type { FastifyInstance } from 'fastify';

import type { LogLevel } from '../config/types.js';

/**
 * `middleware.tracing`: one log line per request, written when its response has been sent
 * (method, redacted URL, client address, status, time). Fastify's own request logging writes
 * two lines per request ("incoming request" and "request completed"), and at a few thousand
 * small requests a second the second line is measurable CPU (docs/BENCHMARKS.md, issue 15).
 */
export function installRequestLog(app: FastifyInstance, level: LogLevel): void {
  if (level === 'silent') return;
  // The line holds only what the `req` serializer keeps (id, method, URL with its secrets
  // replaced, address), a status and a time, so none of the logger's redact paths can match
  // in it; walking them was a third of the line's cost (issue 15). It is written by a child
  // without them, with the request id that `request.log` binds, so the line reads the same.
  const lines = app.log.child({}, { redact: [] });
  app.addHook('onResponse', (request, reply, done) => {
    lines[level](
      {
        reqId: request.id,
        req: request,
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime,
      },
      'request completed',
    );
    done();
  });
}
