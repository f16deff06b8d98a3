import {
  API_PREFIX,
  IssueTokenBody,
  IssueTokenResponse,
  ListSessionsQuery,
  LogoutBody,
  PasswordVerifyBody,
  PasswordVerifyResponse,
  RefreshBody,
  RefreshResponse,
  RevokeResponse,
  RoomNameParams,
  SessionIdentity,
  SessionParams,
  SessionView,
  UpdateSessionBody,
  ValidateTokenBody,
  ValidateTokenResponse,
} from '@elizabeth/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { requireRoomToken, roomAuthOf } from '../../http/room-auth.js';
import { errorResponses, ROOM_TOKEN_SECURITY } from '../../http/route-schemas.js';
import { requireManage } from '../rooms/rooms.policy.js';
import type { SessionAuthenticator } from './session-auth.js';
import type { SessionsService } from './sessions.service.js';

export interface SessionsRoutesOptions {
  sessions: SessionsService;
  authenticator: SessionAuthenticator;
}

const errors = errorResponses(400, 401, 403, 404, 410, 429);
const security = ROOM_TOKEN_SECURITY;

/** API.md §2: sessions (room tokens), password check, refresh and logout. */
export const sessionsRoutes: FastifyPluginAsyncZod<SessionsRoutesOptions> = async (
  app,
  { sessions, authenticator },
) => {
  const withToken = requireRoomToken(authenticator);
  const room = `${API_PREFIX}/rooms/:name`;

  app.post(
    `${room}/tokens`,
    {
      schema: {
        tags: ['sessions'],
        summary: 'Enter the room (new session, counts an entry) or rotate a token',
        params: RoomNameParams,
        body: IssueTokenBody,
        response: { 200: IssueTokenResponse, ...errors },
      },
    },
    async (request) => sessions.issue(request.params.name, request.body, request.ip),
  );

  app.post(
    `${room}/tokens/validate`,
    {
      schema: {
        tags: ['sessions'],
        summary: 'Check a token of this room',
        params: RoomNameParams,
        body: ValidateTokenBody,
        response: { 200: ValidateTokenResponse, ...errors },
      },
    },
    async (request) => sessions.validate(request.params.name, request.body.token),
  );

  app.get(
    `${room}/tokens`,
    {
      onRequest: withToken,
      schema: {
        tags: ['sessions'],
        summary: 'List the sessions of the room, newest first',
        security,
        params: RoomNameParams,
        querystring: ListSessionsQuery,
        response: { 200: z.array(SessionView), ...errors },
      },
    },
    async (request) => {
      const auth = roomAuthOf(request);
      requireManage(auth);
      const include = request.query.include_inactive === 'true' || request.query.include_inactive === '1';
      return sessions.list(auth, include);
    },
  );

  app.delete(
    `${room}/tokens/:jti`,
    {
      onRequest: withToken,
      schema: {
        tags: ['sessions'],
        summary: 'Revoke one session and close its sockets',
        security,
        params: SessionParams,
        response: { 200: RevokeResponse, ...errors },
      },
    },
    async (request) => {
      const auth = roomAuthOf(request);
      requireManage(auth);
      return sessions.revoke(auth, request.params.jti);
    },
  );

  app.get(
    `${room}/session`,
    {
      onRequest: withToken,
      schema: {
        tags: ['sessions'],
        summary: "The caller's session: its author id and display name",
        security,
        params: RoomNameParams,
        response: { 200: SessionIdentity, ...errors },
      },
    },
    async (request) => sessions.identity(roomAuthOf(request)),
  );

  app.patch(
    `${room}/session`,
    {
      onRequest: withToken,
      schema: {
        tags: ['sessions'],
        summary: "Set or clear the caller's display name (shown on their contents and in presence)",
        security,
        params: RoomNameParams,
        body: UpdateSessionBody,
        response: { 200: SessionIdentity, ...errors },
      },
    },
    async (request) => sessions.rename(roomAuthOf(request), request.body.display_name),
  );

  app.post(
    `${room}/password/verify`,
    {
      schema: {
        tags: ['sessions'],
        summary: 'Check a room password without entering',
        params: RoomNameParams,
        body: PasswordVerifyBody,
        response: { 200: PasswordVerifyResponse, ...errors },
      },
    },
    async (request) => sessions.verifyPassword(request.params.name, request.body.password, request.ip),
  );

  app.post(
    `${API_PREFIX}/auth/refresh`,
    {
      schema: {
        tags: ['sessions'],
        summary: 'Trade a refresh token for a new access token (and refresh token)',
        body: RefreshBody,
        response: { 200: RefreshResponse, ...errors },
      },
    },
    async (request) => sessions.refresh(request.body.refresh_token),
  );

  app.post(
    `${API_PREFIX}/auth/logout`,
    {
      schema: {
        tags: ['sessions'],
        summary: 'End the session of an access token',
        body: LogoutBody,
        response: { 200: RevokeResponse, ...errors },
      },
    },
    async (request) => sessions.logout(request.body.access_token),
  );
};
