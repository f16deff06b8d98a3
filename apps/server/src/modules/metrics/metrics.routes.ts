import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';

import type { DB } from '../../db/index.js';
import { requireBearerSecret } from '../../lib/bearer-secret.js';
import type { Clock } from '../../lib/clock.js';
import type { AppMetrics } from './app-metrics.js';
import { metricsRepository } from './metrics.repository.js';

export interface MetricsRoutesOptions {
  metrics: AppMetrics;
  db: Kysely<DB>;
  clock: Clock;
  /** Empty = no token needed. */
  token: string;
  openSockets: () => number;
}

/** `GET /metrics` (at the root, API.md §5): Prometheus text format, gauges gathered now. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, options) => {
  const { metrics } = options;
  app.get(
    '/metrics',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (optional bearer token `metrics.token`)',
      },
    },
    async (request, reply) => {
      if (options.token) requireBearerSecret(request, options.token, 'metrics');
      const usage = await metricsRepository.usage(options.db, options.clock.now());
      metrics.rooms.set(usage.rooms);
      metrics.storedBytes.set(usage.bytes);
      metrics.uploadsInProgress.set(usage.uploads);
      metrics.sockets.set(options.openSockets());
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
};
