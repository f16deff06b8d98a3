import type { FastifyInstance } from 'fastify';

import type { AppConfig } from '../config/types.js';

/** CSP for JSON and other API responses: nothing may load or run from them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Security headers on every response, from `app.middleware.security`. A handler that needs a
 * different CSP (web pages with script hashes, downloads with `sandbox`) sets its own
 * `Content-Security-Policy` and it is kept; every other header is always the configured one.
 * Written as a hook rather than with helmet because each value is free text in the config.
 */
export function installSecurityHeaders(
  app: FastifyInstance,
  security: AppConfig['middleware']['security'],
): void {
  if (!security.enabled) return;
  const fixed: Array<[string, string]> = [];
  if (security.content_type_options) fixed.push(['X-Content-Type-Options', 'nosniff']);
  if (security.frame_options) fixed.push(['X-Frame-Options', security.frame_options]);
  if (security.xss_protection) fixed.push(['X-XSS-Protection', security.xss_protection]);
  if (security.strict_transport_security) {
    fixed.push(['Strict-Transport-Security', security.strict_transport_security]);
  }
  if (security.referrer_policy) fixed.push(['Referrer-Policy', security.referrer_policy]);
  fixed.push(['Cross-Origin-Opener-Policy', 'same-origin']);
  fixed.push(['Cross-Origin-Resource-Policy', 'same-origin']);
  fixed.push(['X-Permitted-Cross-Domain-Policies', 'none']);

  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of fixed) reply.header(name, value);
    if (!reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', API_CSP);
    done(null, payload);
  });
}
