import {
  AdminRoomsQuery,
  AdminRoomsResponse,
  AdminSlugParams,
  API_PREFIX,
  AuthCleanupResponse,
  DeletedResponse,
  ErrorEnvelope,
  LifecyclePassResponse,
} from '@elizabeth/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { requireBearerSecret } from '../../lib/bearer-secret.js';
import type { AdminService } from './admin.service.js';

export interface AdminRoutesOptions {
  admin: AdminService;
  token: string;
}

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 404: ErrorEnvelope };
const security = [{ adminToken: [] }];

/**
 * `/api/v1/admin/*`. Registered only when an admin token is configured, so without one these
 * paths are plain unknown routes (404).
 */
export const adminRoutes: FastifyPluginAsyncZod<AdminRoutesOptions> = async (app, { admin, token }) => {
  app.addHook('onRequest', async (request) => requireBearerSecret(request, token, 'admin'));

  app.get(
    `${API_PREFIX}/admin/rooms`,
    {
      schema: {
        tags: ['admin'],
        summary: 'Every room with its usage and live sockets, in pages',
        security,
        querystring: AdminRoomsQuery,
        response: { 200: AdminRoomsResponse, ...errors },
      },
    },
    async (request) => admin.listRooms(request.query),
  );

  app.delete(
    `${API_PREFIX}/admin/rooms/:slug`,
    {
      schema: {
        tags: ['admin'],
        summary: 'Take a room down: delete it with everything in it, close its sockets',
        security,
        params: AdminSlugParams,
        response: { 200: DeletedResponse, ...errors },
      },
    },
    async (request) => {
      await admin.deleteRoom(request.params.slug);
      return { deleted: true as const };
    },
  );

  app.post(
    `${API_PREFIX}/admin/gc`,
    {
      schema: {
        tags: ['admin'],
        summary: 'Run one lifecycle pass now and return what it did',
        security,
        response: { 200: LifecyclePassResponse, ...errors },
      },
    },
    async () => admin.runLifecyclePass(),
  );

  app.delete(
    `${API_PREFIX}/admin/auth/cleanup`,
    {
      schema: {
        tags: ['admin'],
        summary: 'Delete expired sessions, refresh tokens and blacklist rows',
        security,
        response: { 200: AuthCleanupResponse, ...errors },
      },
    },
    async () => admin.cleanupAuth(),
  );
};
