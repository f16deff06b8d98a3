import {
  API_PREFIX,
  CreateRoomBody,
  DeletedResponse,
  RoomLookupQuery,
  RoomNameParams,
  RoomView,
  UpdatePermissionsBody,
  UpdatePermissionsResponse,
  UpdateSettingsBody,
} from '@elizabeth/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { holdsSession, requireRoomToken, roomAuthOf } from '../../http/room-auth.js';
import { errorResponses, ROOM_TOKEN_SECURITY } from '../../http/route-schemas.js';
import type { RoomCreationLimit } from '../../http/room-creation-limit.js';
import type { SessionAuthenticator } from '../sessions/session-auth.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { RoomsService } from './rooms.service.js';

export interface RoomsRoutesOptions {
  rooms: RoomsService;
  sessions: SessionsService;
  authenticator: SessionAuthenticator;
  /** Rooms per client address (POST and the zero-step GET). */
  creationLimit: RoomCreationLimit;
}

const errors = errorResponses(400, 401, 403, 404, 409, 410);
const security = ROOM_TOKEN_SECURITY;

/** API.md §1: rooms. */
export const roomsRoutes: FastifyPluginAsyncZod<RoomsRoutesOptions> = async (
  app,
  { rooms, sessions, authenticator, creationLimit },
) => {
  const withToken = requireRoomToken(authenticator);
  const url = `${API_PREFIX}/rooms/:name`;

  app.post(
    url,
    {
      schema: {
        tags: ['rooms'],
        summary: 'Create a room with options',
        params: RoomNameParams,
        body: CreateRoomBody,
        response: { 201: RoomView, ...errors },
      },
    },
    async (request, reply) => {
      creationLimit.take(request.ip);
      return reply.code(201).send(await rooms.create(request.params.name, request.body));
    },
  );

  app.get(
    url,
    {
      schema: {
        tags: ['rooms'],
        summary: 'Find a room, creating it with the defaults on the first visit (unless create=false)',
        description:
          'A bearer token of a live session of the room lets its holder back in when the entry limit is reached.',
        params: RoomNameParams,
        querystring: RoomLookupQuery,
        response: { 200: RoomView, ...errors },
      },
    },
    async (request) =>
      rooms.getOrCreate(request.params.name, {
        create: request.query.create !== 'false',
        held: await holdsSession(authenticator, request, request.params.name),
        beforeCreate: () => creationLimit.take(request.ip),
      }),
  );

  app.delete(
    url,
    {
      onRequest: withToken,
      schema: {
        tags: ['rooms'],
        summary: 'Delete the room with everything in it',
        security,
        params: RoomNameParams,
        response: { 200: DeletedResponse, ...errors },
      },
    },
    async (request) => {
      await rooms.delete(roomAuthOf(request));
      return { deleted: true as const };
    },
  );

  app.post(
    `${url}/permissions`,
    {
      onRequest: withToken,
      schema: {
        tags: ['rooms'],
        summary: 'Set the room permissions (VIEW is always kept; no SHARE = private address)',
        security,
        params: RoomNameParams,
        body: UpdatePermissionsBody,
        response: { 200: UpdatePermissionsResponse, ...errors },
      },
    },
    async (request) => {
      const auth = roomAuthOf(request);
      const room = await rooms.updatePermissions(auth, request.body);
      if (room.slug === auth.room.slug) return room;
      return { ...room, session: await sessions.carryToNewAddress(auth) };
    },
  );

  app.put(
    `${url}/settings`,
    {
      onRequest: withToken,
      schema: {
        tags: ['rooms'],
        summary: 'Change password, expiry and limits',
        security,
        params: RoomNameParams,
        body: UpdateSettingsBody,
        response: { 200: RoomView, ...errors },
      },
    },
    async (request) => rooms.updateSettings(roomAuthOf(request), request.body),
  );
};
