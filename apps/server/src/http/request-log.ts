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
  app.addHook('onResponse', (request, reply, done) => {
    request.log[level](
      { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
    done();
  });
}
