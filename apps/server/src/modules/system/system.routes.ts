import {
  API_PREFIX,
  ErrorEnvelope,
  HealthResponse,
  PublicConfigResponse,
  StatusResponse,
} from '@elizabeth/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import type { SystemService } from './system.service.js';

export interface SystemRoutesOptions {
  system: SystemService;
}

/** Service routes of API.md §5: health, status, public configuration. */
export const systemRoutes: FastifyPluginAsyncZod<SystemRoutesOptions> = async (app, { system }) => {
  app.get(
    `${API_PREFIX}/health`,
    {
      config: { rateLimit: false },
      schema: {
        tags: ['system'],
        summary: 'Liveness and readiness: database and storage answer',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (_request, reply) => {
      const health = await system.health();
      return reply.code(health.status === 'ok' ? 200 : 503).send(health);
    },
  );

  app.get(
    `${API_PREFIX}/status`,
    {
      schema: {
        tags: ['system'],
        summary: 'Version, uptime, backends and resource usage',
        response: { 200: StatusResponse, 500: ErrorEnvelope },
      },
    },
    async () => system.status(),
  );

  app.get(
    `${API_PREFIX}/config`,
    {
      schema: {
        tags: ['system'],
        summary: 'Public room and upload policy for clients (nothing secret)',
        response: { 200: PublicConfigResponse },
      },
    },
    async () => system.publicConfig(),
  );
};
