import type { FastifyInstance } from 'fastify';

/**
 * `Cache-Control: no-store` on every JSON answer that does not set its own: room data, tokens,
 * refresh tokens and errors must never be kept by a proxy or the browser's caches. Responses
 * with a caching policy of their own (downloads, the web app's files) keep it.
 */
export function installNoStoreForJson(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('Cache-Control')) {
      const type = reply.getHeader('Content-Type');
      if (typeof type === 'string' && /[/+]json\b/i.test(type)) reply.header('Cache-Control', 'no-store');
    }
    done(null, payload);
  });
}
