import { z } from 'zod';

import { ContentView } from './contents.js';
import { RoomView, Timestamp as RoomTimestamp } from './rooms.js';

/**
 * WebSocket frames of `/api/v1/ws` (API.md §4). Every frame is one JSON text frame
 * `{message_type, payload, timestamp}`; `timestamp` is Unix milliseconds and optional from
 * clients. docs/WEBSOCKET.md shows a whole session.
 */

/** Close codes the server uses; `4000 + HTTP status` for refusals, `41xx` for forced closes. */
export const WS_CLOSE = {
  NORMAL: 1000,
  /** The server is shutting down; reconnect (another instance may answer). */
  GOING_AWAY: 1001,
  /** The first frame was not `connect`, or too many malformed frames. */
  INVALID_FRAME: 4400,
  /** The token is missing, invalid, expired, revoked or for another room; or the room cannot be entered. */
  AUTHENTICATION_FAILED: 4401,
  PERMISSION_DENIED: 4403,
  ROOM_NOT_FOUND: 4404,
  /** No `connect` frame within the connect timeout. */
  CONNECT_TIMEOUT: 4408,
  /** The room expired before the socket connected. */
  ROOM_EXPIRED_AT_CONNECT: 4410,
  /** Per-room or per-server connection limit reached. */
  TOO_MANY_CONNECTIONS: 4429,
  INTERNAL_ERROR: 4500,
  /** The database did not answer during `connect`; retry shortly. */
  SERVICE_UNAVAILABLE: 4503,
  SESSION_REVOKED: 4100,
  PASSWORD_CHANGED: 4101,
  ADDRESS_CHANGED: 4102,
  ROOM_DELETED: 4103,
  ROOM_EXPIRED: 4104,
} as const;
export type WsCloseCode = (typeof WS_CLOSE)[keyof typeof WS_CLOSE];

/** Why the server closed the socket on its own initiative (the `error` frame's `code`). */
export const WsForcedCloseReason = z.enum([
  'session_revoked',
  'password_changed',
  'address_changed',
  'room_deleted',
  'room_expired',
]);
export type WsForcedCloseReason = z.infer<typeof WsForcedCloseReason>;

/**
 * `error` frame codes: the upper-case HTTP API codes (same meaning as over HTTP, e.g.
 * `AUTHENTICATION_FAILED` when `connect` is refused), or these lower-case WebSocket-only ones.
 */
export const WsErrorCode = z.enum([
  ...WsForcedCloseReason.options,
  'invalid_frame',
  'connect_required',
  'connect_timeout',
  'already_connected',
  'too_many_connections',
  'room_full',
]);
export type WsErrorCode = z.infer<typeof WsErrorCode>;

const Timestamp = z.number().int().nonnegative().meta({ description: 'Unix milliseconds' });

function frame<T extends string, P extends z.ZodType>(type: T, payload: P) {
  return z.object({ message_type: z.literal(type), payload, timestamp: Timestamp });
}
function clientFrame<T extends string, P extends z.ZodType>(type: T, payload: P) {
  return z.object({ message_type: z.literal(type), payload, timestamp: Timestamp.optional() });
}

// Client → server.
export const WsConnectPayload = z.object({
  token: z.string().min(1).max(8192),
  room_name: z.string().max(200),
});
export const WsConnectFrame = clientFrame('connect', WsConnectPayload).meta({ id: 'WsConnectFrame' });
export const WsPingFrame = clientFrame('ping', z.unknown().optional()).meta({ id: 'WsPingFrame' });
export const WsClientFrame = z.discriminatedUnion('message_type', [WsConnectFrame, WsPingFrame]);
export type WsClientFrame = z.infer<typeof WsClientFrame>;

// Server → client.
/** A person connected to the room: one entry per author id, however many sockets it has. */
export const WsMember = z.object({ author_id: z.string(), display_name: z.string().nullable() });
export type WsMember = z.infer<typeof WsMember>;
/** At most this many members are listed in a presence frame; `online` always counts every socket. */
export const WS_MEMBERS_MAX = 200;
export const WsOnline = z.object({
  online: z.number().int().nonnegative(),
  /** Who is connected (all instances), sorted by name; at most `WS_MEMBERS_MAX` entries. */
  members: z.array(WsMember),
});
export const WsConnectAckPayload = z.object({
  room: RoomView,
  session: z.object({
    jti: z.string(),
    permission: z.number().int(),
    author_id: z.string(),
    display_name: z.string().nullable(),
  }),
  online: z.number().int().nonnegative(),
  members: z.array(WsMember),
});
/** A session changed its display name: every content with this author id now shows it. */
export const WsMemberRenamedPayload = WsMember;
/** A tus upload in progress in the room (other people see it as it grows). */
export const WsUploadInProgress = z.object({
  /** The upload's reservation id (not its tus URL, which only its uploader may use). */
  id: z.number().int(),
  file_name: z.string(),
  size: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  author_id: z.string(),
  author_name: z.string().nullable(),
  /** When the upload is given up unless it is finished by then. */
  expires_at: RoomTimestamp,
});
export type WsUploadInProgress = z.infer<typeof WsUploadInProgress>;
export const WsUploadProgressPayload = z.object({ upload: WsUploadInProgress });
export const WsUploadEndedPayload = z.object({
  id: z.number().int(),
  reason: z.enum(['finished', 'aborted', 'expired']),
});
export const WsContentPayload = z.object({ room_name: z.string(), content: ContentView });
export const WsRoomUpdatedPayload = z.object({
  room: RoomView,
  reason: z.enum(['settings_changed', 'permissions_changed', 'address_changed']),
});
export const WsErrorPayload = z.object({ code: z.string(), message: z.string() });
/** The room's session list changed (a new session, or sessions revoked): managers refetch it. */
export const WsSessionsChangedPayload = z.object({ reason: z.enum(['session_created', 'sessions_revoked']) });

/** Managers only: a share link was created, revoked, opened or downloaded; they refetch the list. */
export const WsShareLinksChangedPayload = z.object({
  reason: z.enum(['created', 'revoked', 'used']),
  link_id: z.number().int(),
});

export const WsConnectAckFrame = frame('connect_ack', WsConnectAckPayload).meta({ id: 'WsConnectAckFrame' });
export const WsContentCreatedFrame = frame('content_created', WsContentPayload);
export const WsContentUpdatedFrame = frame('content_updated', WsContentPayload);
export const WsContentDeletedFrame = frame('content_deleted', WsContentPayload);
export const WsRoomUpdatedFrame = frame('room_updated', WsRoomUpdatedPayload);
export const WsUserJoinedFrame = frame('user_joined', WsOnline);
export const WsUserLeftFrame = frame('user_left', WsOnline);
export const WsSessionsChangedFrame = frame('sessions_changed', WsSessionsChangedPayload);
export const WsMemberRenamedFrame = frame('member_renamed', WsMemberRenamedPayload);
export const WsUploadProgressFrame = frame('upload_progress', WsUploadProgressPayload);
export const WsUploadEndedFrame = frame('upload_ended', WsUploadEndedPayload);
export const WsShareLinksChangedFrame = frame('share_links_changed', WsShareLinksChangedPayload);
export const WsPongFrame = frame('pong', z.null());
export const WsErrorFrame = frame('error', WsErrorPayload).meta({ id: 'WsErrorFrame' });

export const WsServerFrame = z
  .discriminatedUnion('message_type', [
    WsConnectAckFrame,
    WsContentCreatedFrame,
    WsContentUpdatedFrame,
    WsContentDeletedFrame,
    WsRoomUpdatedFrame,
    WsUserJoinedFrame,
    WsUserLeftFrame,
    WsSessionsChangedFrame,
    WsMemberRenamedFrame,
    WsUploadProgressFrame,
    WsUploadEndedFrame,
    WsShareLinksChangedFrame,
    WsPongFrame,
    WsErrorFrame,
  ])
  .meta({ id: 'WsServerFrame' });
export type WsServerFrame = z.infer<typeof WsServerFrame>;
export type WsServerMessageType = WsServerFrame['message_type'];
