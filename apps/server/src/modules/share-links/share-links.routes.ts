import {
  API_PREFIX,
  CreateShareLinkBody,
  ListShareLinksQuery,
  OpenShareLinkBody,
  OpenShareLinkResponse,
  RevokeResponse,
  RoomNameParams,
  ShareLinkParams,
  ShareLinkView,
} from '@elizabeth/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { requireRoomToken, roomAuthOf } from '../../http/room-auth.js';
import { errorResponses, ROOM_TOKEN_SECURITY } from '../../http/route-schemas.js';
import type { SessionAuthenticator } from '../sessions/session-auth.js';
import type { ShareLinksService } from './share-links.service.js';

export interface ShareLinksRoutesOptions {
  links: ShareLinksService;
  authenticator: SessionAuthenticator;
}

const errors = errorResponses(400, 401, 403, 404, 410, 429);
const security = ROOM_TOKEN_SECURITY;

/** API.md, "Share links": managers create, list and revoke; anybody with a secret opens. */
export const shareLinksRoutes: FastifyPluginAsyncZod<ShareLinksRoutesOptions> = async (
  app,
  { links, authenticator },
) => {
  const withToken = requireRoomToken(authenticator);
  const base = `${API_PREFIX}/rooms/:name/share-links`;

  app.post(
    base,
    {
      onRequest: withToken,
      schema: {
        tags: ['share-links'],
        summary: 'Create a share link (needs a session with DELETE)',
        security,
        params: RoomNameParams,
        body: CreateShareLinkBody,
        response: { 201: ShareLinkView, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await links.create(roomAuthOf(request), request.body)),
  );

  app.get(
    base,
    {
      onRequest: withToken,
      schema: {
        tags: ['share-links'],
        summary: 'The share links of the room, newest first (live ones unless include_inactive)',
        security,
        params: RoomNameParams,
        querystring: ListShareLinksQuery,
        response: { 200: z.array(ShareLinkView), ...errors },
      },
    },
    async (request) => {
      const include = request.query.include_inactive === 'true' || request.query.include_inactive === '1';
      return links.list(roomAuthOf(request), include);
    },
  );

  app.delete(
    `${base}/:id`,
    {
      onRequest: withToken,
      schema: {
        tags: ['share-links'],
        summary: 'Revoke a share link: its sessions, refresh tokens and sockets end',
        security,
        params: ShareLinkParams,
        response: { 200: RevokeResponse, ...errors },
      },
    },
    async (request) => links.revoke(roomAuthOf(request), request.params.id),
  );

  app.post(
    `${API_PREFIX}/share-links/open`,
    {
      schema: {
        tags: ['share-links'],
        summary: "Open a share link: a session with the link's permission (takes one use)",
        body: OpenShareLinkBody,
        response: { 200: OpenShareLinkResponse, ...errors },
      },
    },
    async (request) => links.open(request.body, request.ip),
  );
};
