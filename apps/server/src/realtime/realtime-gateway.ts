import {
  Permission,
  WS_CLOSE,
  WsClientFrame,
  type WsErrorCode,
  type WsForcedCloseReason,
  type WsMember,
  type WsServerFrame,
  type WsUploadInProgress,
} from '@elizabeth/protocol';
import type { WebSocket } from 'ws';

import type { AppConfig } from '../config/types.js';
import { toAppError } from '../http/error-handler.js';
import type { Clock } from '../lib/clock.js';
import { toRoomView } from '../modules/rooms/rooms.presenter.js';
import { authorOf } from '../modules/sessions/author.js';
import type { SessionAuthenticator } from '../modules/sessions/session-auth.js';
import type { EventBus, RoomEvent } from './events.js';
import { mergeMembers, type Presence, type PresenceCount } from './presence.js';

/** Malformed frames tolerated (each answered with an `error` frame) before the socket closes. */
export const MAX_INVALID_FRAMES = 5;
/** A client that does not read its frames is dropped past this much unsent data. */
export const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/**
 * In a room with more sockets than this, `user_joined`/`user_left` frames are coalesced to at
 * most one per PRESENCE_INTERVAL_MS carrying the latest count: 1 000 sockets joining would
 * otherwise cost 1 000 × 1 000 frames. Smaller rooms hear every change at once.
 */
export const PRESENCE_COALESCE_ABOVE = 64;
export const PRESENCE_INTERVAL_MS = 100;

const FORCED_CLOSE: Record<WsForcedCloseReason, { code: number; message: string }> = {
  session_revoked: { code: WS_CLOSE.SESSION_REVOKED, message: 'This session was revoked' },
  password_changed: {
    code: WS_CLOSE.PASSWORD_CHANGED,
    message: 'The room password changed; enter the room again',
  },
  address_changed: {
    code: WS_CLOSE.ADDRESS_CHANGED,
    message: 'The room moved to another address; enter it again',
  },
  room_deleted: { code: WS_CLOSE.ROOM_DELETED, message: 'The room was deleted' },
  room_expired: { code: WS_CLOSE.ROOM_EXPIRED, message: 'The room has expired' },
};

type ServerMessage = WsServerFrame['message_type'];
type PayloadOf<T extends ServerMessage> = Extract<WsServerFrame, { message_type: T }>['payload'];

interface Connection {
  readonly socket: WebSocket;
  state: 'awaiting_connect' | 'authenticating' | 'open' | 'closed';
  /** Frames produced before `connect_ack` went out; sent right after it. */
  queue: Array<string | Buffer>;
  roomId?: number;
  /** The address the client connected with (tokens are bound to it). */
  slug?: string;
  jti?: string;
  /** Who the socket's session is to the room (display names). */
  member?: WsMember;
  invalidFrames: number;
  missedPings: number;
  connectTimer?: NodeJS.Timeout;
  /** The client address it counts against (set once counted). */
  client?: string;
  /** Closes the socket when its access token expires. */
  expiryTimer?: NodeJS.Timeout;
  /** A session that may manage the room (DELETE, not a share link's): hears share-link changes. */
  manager?: boolean;
  /** A share link's session limited to these contents hears of them only. */
  scope?: Set<number>;
}

/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface RoomHub {
  connections: Set<Connection>;
  /** Last presence answer applied, so a late, older count is never shown after a newer one. */
  presenceVersion: number;
  online: number;
  /** Who is connected, as last told by the presence store (or counted here without it). */
  members: WsMember[];
  /** When the last presence frame went out (performance.now()), and the one held back. */
  presenceSentAt: number;
  pendingPresence?: { joined: boolean; online: number; members: WsMember[] };
  presenceTimer?: NodeJS.Timeout;
  /** tus uploads in progress in the room, told to sockets that connect while they run. */
  uploads: Map<number, WsUploadInProgress>;
  /**
   * Uploads that ended lately (id → when): a progress report another instance sent just before
   * the end may arrive after it, and must not bring the upload back.
   */
  endedUploads: Map<number, number>;
}

/** How long an ended upload's late progress reports are ignored. */
const ENDED_UPLOAD_MEMORY_MS = 60_000;

export interface RealtimeGatewayDeps {
  config: AppConfig['realtime'];
  authenticator: SessionAuthenticator;
  events: EventBus;
  presence: Presence;
  clock: Clock;
  logger: {
    warn(obj: object | string, msg?: string): void;
    debug(obj: object | string, msg?: string): void;
  };
}

/**
 * The WebSocket side of API.md §4: the `connect` handshake, one hub per room (keyed by room
 * id, since addresses change), fan-out of bus events in publish order, presence counts, forced
 * closes, heartbeats and limits. Transport-neutral apart from the `ws` socket it is handed.
 */
export class RealtimeGateway {
  private readonly connections = new Set<Connection>();
  private readonly hubs = new Map<number, RoomHub>();
  private readonly byJti = new Map<string, Set<Connection>>();
  private readonly perClient = new Map<string, number>();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: RealtimeGatewayDeps) {}

  start(): void {
    this.unsubscribe = this.deps.events.subscribe((event) => this.dispatch(event));
    this.timer = setInterval(() => this.tick(), this.deps.config.ping_interval_seconds * 1000);
    this.timer.unref();
  }

  /** Closes every socket with 1001 and stops listening to the bus. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    for (const hub of this.hubs.values()) clearTimeout(hub.presenceTimer);
    for (const connection of [...this.connections]) {
      this.close(connection, WS_CLOSE.GOING_AWAY, 'server_shutdown');
    }
  }

  isConnected(jti: string): boolean {
    return (this.byJti.get(jti)?.size ?? 0) > 0;
  }

  /** Sockets on this instance: all of them, and the rooms that have at least one. */
  stats(): { connections: number; rooms: number } {
    return { connections: this.connections.size, rooms: this.hubs.size };
  }

  localCounts(): Map<number, number> {
    return new Map([...this.hubs].map(([id, hub]) => [id, hub.connections.size]));
  }

  private localMembers(hub: RoomHub): WsMember[] {
    const members: WsMember[] = [];
    for (const connection of hub.connections) if (connection.member) members.push(connection.member);
    return mergeMembers([members]);
  }

  /** Heartbeat and presence again after the bus reconnected (a restarted Redis forgot them). */
  resyncPresence(): void {
    for (const [roomId, hub] of this.hubs) void this.publishPresence(roomId, hub, true);
  }

  /** `client`: the client's address (request.ip), for `max_connections_per_client`. */
  accept(socket: WebSocket, client = ''): void {
    const connection: Connection = {
      socket,
      state: 'awaiting_connect',
      queue: [],
      invalidFrames: 0,
      missedPings: 0,
    };
    if (this.stopped) {
      socket.close(WS_CLOSE.GOING_AWAY, 'server_shutdown');
      return;
    }
    if (this.connections.size >= this.deps.config.max_connections) {
      this.refuse(
        connection,
        'too_many_connections',
        'This server has reached its connection limit',
        WS_CLOSE.TOO_MANY_CONNECTIONS,
      );
      return;
    }
    const fromClient = this.perClient.get(client) ?? 0;
    if (fromClient >= this.deps.config.max_connections_per_client) {
      this.refuse(
        connection,
        'too_many_connections',
        'This address has reached its connection limit',
        WS_CLOSE.TOO_MANY_CONNECTIONS,
      );
      return;
    }
    this.perClient.set(client, fromClient + 1);
    connection.client = client;
    this.connections.add(connection);
    connection.connectTimer = setTimeout(() => {
      if (connection.state === 'awaiting_connect') {
        this.refuse(
          connection,
          'connect_timeout',
          'No connect frame received in time',
          WS_CLOSE.CONNECT_TIMEOUT,
        );
      }
    }, this.deps.config.connect_timeout_seconds * 1000);

    socket.on('message', (data, isBinary) => this.receive(connection, data, isBinary));
    socket.on('pong', () => {
      connection.missedPings = 0;
    });
    socket.on('close', () => this.forget(connection));
  }

  private receive(connection: Connection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (connection.state === 'closed') return;
    const frame = isBinary ? undefined : parseFrame(data);
    if (connection.state === 'awaiting_connect') {
      if (frame?.message_type === 'connect') {
        void this.handshake(connection, frame.payload.token, frame.payload.room_name);
        return;
      }
      this.refuse(
        connection,
        frame ? 'connect_required' : 'invalid_frame',
        frame ? 'The first frame must be connect' : 'The first frame must be a JSON connect frame',
        WS_CLOSE.INVALID_FRAME,
      );
      return;
    }
    if (!frame) {
      connection.invalidFrames += 1;
      if (connection.invalidFrames >= MAX_INVALID_FRAMES) {
        this.refuse(connection, 'invalid_frame', 'Too many malformed frames', WS_CLOSE.INVALID_FRAME);
      } else {
        this.sendError(
          connection,
          'invalid_frame',
          'Frames are JSON {message_type, payload, timestamp} of a known type',
        );
      }
      return;
    }
    if (frame.message_type === 'ping') this.send(connection, 'pong', null);
    else this.sendError(connection, 'already_connected', 'This socket is already connected');
  }

  private async handshake(connection: Connection, token: string, roomName: string): Promise<void> {
    connection.state = 'authenticating';
    clearTimeout(connection.connectTimer);
    let auth;
    try {
      auth = await this.deps.authenticator.authenticate(roomName, token);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) this.deps.logger.warn({ err: error }, 'websocket connect failed');
      this.refuse(connection, appError.code, appError.message, 4000 + appError.status);
      return;
    }
    if (connection.state !== 'authenticating') return;
    const { room, claims } = auth;
    connection.manager = (claims.permission & Permission.DELETE) !== 0 && auth.session.share_link_id === null;
    if (auth.link?.content_ids) connection.scope = new Set(JSON.parse(auth.link.content_ids) as number[]);
    const hub = this.hubs.get(room.id);
    const inRoom = Math.max(hub?.connections.size ?? 0, hub?.online ?? 0);
    if (inRoom >= this.deps.config.max_connections_per_room) {
      this.refuse(
        connection,
        'room_full',
        'This room has reached its connection limit',
        WS_CLOSE.TOO_MANY_CONNECTIONS,
      );
      return;
    }

    connection.roomId = room.id;
    connection.slug = room.slug;
    connection.jti = claims.jti;
    const author = authorOf(auth.session);
    connection.member = { author_id: author.author_id, display_name: author.display_name };
    this.closeAtExpiry(connection, claims.exp * 1000);
    const roomHub: RoomHub = hub ?? {
      connections: new Set(),
      presenceVersion: 0,
      online: 0,
      members: [],
      presenceSentAt: 0,
      uploads: new Map(),
      endedUploads: new Map(),
    };
    this.hubs.set(room.id, roomHub);
    roomHub.connections.add(connection);
    const sessions = this.byJti.get(claims.jti) ?? new Set();
    sessions.add(connection);
    this.byJti.set(claims.jti, sessions);

    const count = await this.countPresence(room.id, roomHub);
    if (connection.state !== 'authenticating') return;
    connection.state = 'open';
    this.write(
      connection,
      frameText(this.deps.clock.now(), 'connect_ack', {
        room: toRoomView(room),
        session: { jti: claims.jti, permission: claims.permission, ...author },
        online: count?.online ?? roomHub.connections.size,
        members: count?.members ?? this.localMembers(roomHub),
      }),
    );
    const now = this.deps.clock.now();
    for (const upload of roomHub.uploads.values()) {
      if (Date.parse(upload.expires_at) > now) this.send(connection, 'upload_progress', { upload });
    }
    for (const text of connection.queue.splice(0)) this.write(connection, text);
    this.announce(room.id, roomHub, count, true);
  }

  /** The presence store's answer; undefined when it is unreachable (Redis down). */
  private async countPresence(roomId: number, hub: RoomHub): Promise<PresenceCount | undefined> {
    try {
      return await this.deps.presence.update(roomId, hub.connections.size, this.localMembers(hub));
    } catch (error) {
      this.deps.logger.debug({ err: error }, 'presence store unreachable; counting local sockets');
      return undefined;
    }
  }

  private announce(roomId: number, hub: RoomHub, count: PresenceCount | undefined, joined: boolean): void {
    if (count) {
      this.deps.events.publish({ type: 'presence_changed', room_id: roomId, joined, ...count });
    } else {
      // Without the store only this instance's sockets can be counted and told.
      hub.online = hub.connections.size;
      hub.members = this.localMembers(hub);
      this.sendPresence(hub, joined, hub.online, hub.members);
    }
  }

  private async publishPresence(roomId: number, hub: RoomHub, joined: boolean): Promise<void> {
    const count = await this.countPresence(roomId, hub);
    if (count) this.deps.events.publish({ type: 'presence_changed', room_id: roomId, joined, ...count });
  }

  /** Unregisters a socket (idempotent) and tells the room its new count. */
  private forget(connection: Connection): void {
    if (connection.state === 'closed') return;
    connection.state = 'closed';
    connection.queue = [];
    clearTimeout(connection.connectTimer);
    clearTimeout(connection.expiryTimer);
    this.connections.delete(connection);
    if (connection.client !== undefined) {
      const left = (this.perClient.get(connection.client) ?? 1) - 1;
      if (left <= 0) this.perClient.delete(connection.client);
      else this.perClient.set(connection.client, left);
    }
    if (connection.jti !== undefined) {
      const sessions = this.byJti.get(connection.jti);
      sessions?.delete(connection);
      if (sessions?.size === 0) this.byJti.delete(connection.jti);
    }
    const roomId = connection.roomId;
    const hub = roomId === undefined ? undefined : this.hubs.get(roomId);
    if (roomId === undefined || !hub?.connections.delete(connection)) return;
    if (hub.connections.size === 0) this.hubs.delete(roomId);
    void this.countPresence(roomId, hub).then((count) => {
      if (!this.stopped) this.announce(roomId, hub, count, false);
    });
  }

  private dispatch(event: RoomEvent): void {
    const hub = this.hubs.get(event.room_id);
    if (!hub) return;
    switch (event.type) {
      case 'content_created':
      case 'content_updated':
      case 'content_deleted':
        this.broadcast(hub, event.type, { room_name: event.slug, content: event.content }, (connection) =>
          connection.scope === undefined ? true : connection.scope.has(event.content.id),
        );
        return;
      case 'share_links_changed':
        this.broadcast(
          hub,
          'share_links_changed',
          { reason: event.reason, link_id: event.link_id },
          (connection) => connection.manager === true,
        );
        return;
      case 'room_updated':
        for (const connection of [...hub.connections]) {
          // A token is bound to the address it was issued for: sockets of the old address end.
          if (event.previous_slug !== undefined && connection.slug !== event.slug) {
            this.forceClose(connection, 'address_changed');
          } else {
            this.send(connection, 'room_updated', { room: event.room, reason: event.reason });
          }
        }
        return;
      case 'room_deleted':
        for (const connection of [...hub.connections]) this.forceClose(connection, event.reason);
        return;
      case 'sessions_revoked':
        for (const connection of [...hub.connections]) {
          const hit =
            event.jtis !== undefined
              ? event.jtis.includes(connection.jti ?? '')
              : event.except !== undefined && connection.jti !== event.except;
          if (hit) this.forceClose(connection, event.reason);
        }
        this.broadcast(hub, 'sessions_changed', { reason: 'sessions_revoked' });
        return;
      case 'presence_changed':
        if (event.version <= hub.presenceVersion) return;
        hub.presenceVersion = event.version;
        hub.online = event.online;
        hub.members = event.members;
        this.sendPresence(hub, event.joined, event.online, event.members);
        return;
      case 'session_created':
        this.broadcast(hub, 'sessions_changed', { reason: 'session_created' });
        return;
      case 'member_renamed':
        this.renamed(event.room_id, hub, { author_id: event.author_id, display_name: event.display_name });
        return;
      case 'upload_progress':
        if (hub.endedUploads.has(event.upload.id)) return;
        hub.uploads.set(event.upload.id, event.upload);
        this.broadcast(hub, 'upload_progress', { upload: event.upload });
        return;
      case 'upload_ended':
        hub.uploads.delete(event.id);
        hub.endedUploads.set(event.id, this.deps.clock.now());
        this.broadcast(hub, 'upload_ended', { id: event.id, reason: event.reason });
        return;
    }
  }

  /**
   * A person's new name: their sockets here carry it from now on (and the presence store learns
   * it, so later presence frames list it), and everyone in the room hears `member_renamed`.
   */
  private renamed(roomId: number, hub: RoomHub, member: WsMember): void {
    let mine = false;
    for (const connection of hub.connections) {
      if (connection.member?.author_id !== member.author_id) continue;
      connection.member = member;
      mine = true;
    }
    hub.members = mergeMembers([hub.members.map((m) => (m.author_id === member.author_id ? member : m))]);
    for (const upload of hub.uploads.values()) {
      if (upload.author_id === member.author_id) upload.author_name = member.display_name;
    }
    this.broadcast(hub, 'member_renamed', member);
    if (mine) void this.countPresence(roomId, hub);
  }

  /** Uploads whose reservation ran out without a word (the uploader left): ended as expired. */
  private expireUploads(): void {
    const now = this.deps.clock.now();
    for (const hub of this.hubs.values()) {
      for (const [id, endedAt] of hub.endedUploads) {
        if (now - endedAt > ENDED_UPLOAD_MEMORY_MS) hub.endedUploads.delete(id);
      }
      for (const [id, upload] of hub.uploads) {
        if (Date.parse(upload.expires_at) > now) continue;
        hub.uploads.delete(id);
        this.broadcast(hub, 'upload_ended', { id, reason: 'expired' });
      }
    }
  }

  private tick(): void {
    for (const connection of this.connections) {
      if (connection.missedPings >= 2) {
        this.deps.logger.debug('websocket missed two pings: dropped');
        connection.socket.terminate();
        continue;
      }
      connection.missedPings += 1;
      try {
        connection.socket.ping();
      } catch {
        connection.socket.terminate();
      }
    }
    this.expireUploads();
    const members = new Map([...this.hubs].map(([id, hub]) => [id, this.localMembers(hub)]));
    this.deps.presence.heartbeat(this.localCounts(), members).catch((error: unknown) => {
      this.deps.logger.debug({ err: error }, 'presence heartbeat failed');
    });
  }

  private sendPresence(hub: RoomHub, joined: boolean, online: number, members: WsMember[]): void {
    hub.pendingPresence = { joined, online, members };
    if (hub.presenceTimer) return;
    const wait =
      hub.connections.size > PRESENCE_COALESCE_ABOVE
        ? hub.presenceSentAt + PRESENCE_INTERVAL_MS - performance.now()
        : 0;
    if (wait <= 0) {
      this.flushPresence(hub);
      return;
    }
    hub.presenceTimer = setTimeout(() => this.flushPresence(hub), wait);
  }

  private flushPresence(hub: RoomHub): void {
    hub.presenceTimer = undefined;
    const pending = hub.pendingPresence;
    if (!pending || this.stopped) return;
    hub.pendingPresence = undefined;
    hub.presenceSentAt = performance.now();
    this.broadcast(hub, pending.joined ? 'user_joined' : 'user_left', {
      online: pending.online,
      members: pending.members,
    });
  }

  /** One frame encoded once, then handed to every socket of the room (or those `to` accepts). */
  private broadcast<T extends ServerMessage>(
    hub: RoomHub,
    type: T,
    payload: PayloadOf<T>,
    to?: (connection: Connection) => boolean,
  ): void {
    const data = Buffer.from(frameText(this.deps.clock.now(), type, payload));
    for (const connection of hub.connections) if (!to || to(connection)) this.sendText(connection, data);
  }

  private send<T extends ServerMessage>(connection: Connection, type: T, payload: PayloadOf<T>): void {
    this.sendText(connection, frameText(this.deps.clock.now(), type, payload));
  }

  private sendError(connection: Connection, code: WsErrorCode, message: string): void {
    this.send(connection, 'error', { code, message });
  }

  private sendText(connection: Connection, text: string | Buffer): void {
    if (connection.state === 'open') this.write(connection, text);
    else if (connection.state === 'authenticating') connection.queue.push(text);
  }

  private write(connection: Connection, text: string | Buffer): void {
    const { socket } = connection;
    if (socket.readyState !== 1) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.deps.logger.warn('websocket client does not read its frames: dropped');
      socket.terminate();
      return;
    }
    socket.send(text, { binary: false });
  }

  private forceClose(connection: Connection, reason: WsForcedCloseReason): void {
    const { code, message } = FORCED_CLOSE[reason];
    this.sendError(connection, reason, message);
    this.close(connection, code, reason);
  }

  /** An `error` frame, then the close (before `connect_ack` the frame goes out directly). */
  /**
   * At the token's expiry: an `error` frame `token_expired`, then close 4401 with the same
   * reason; the web app refreshes its token and reconnects at once (docs/WEBSOCKET.md).
   */
  private closeAtExpiry(connection: Connection, expiresAt: number): void {
    const wait = expiresAt - this.deps.clock.now();
    connection.expiryTimer = setTimeout(
      () => {
        if (connection.state === 'closed') return;
        if (this.deps.clock.now() < expiresAt) {
          this.closeAtExpiry(connection, expiresAt);
          return;
        }
        this.refuse(
          connection,
          'token_expired',
          'The access token expired; refresh it and reconnect',
          WS_CLOSE.AUTHENTICATION_FAILED,
        );
      },
      Math.min(Math.max(wait, 0), MAX_TIMER_MS),
    );
    connection.expiryTimer.unref?.();
  }

  private refuse(connection: Connection, code: string, message: string, closeCode: number): void {
    this.write(connection, frameText(this.deps.clock.now(), 'error', { code, message }));
    this.close(connection, closeCode, code);
  }

  /** Starts the close handshake and unregisters at once, so counts and fan-out skip it. */
  private close(connection: Connection, code: number, reason: string): void {
    if (connection.state === 'closed') return;
    try {
      connection.socket.close(code, reason);
    } catch {
      connection.socket.terminate();
    }
    this.forget(connection);
  }
}

function frameText<T extends ServerMessage>(now: number, type: T, payload: PayloadOf<T>): string {
  return JSON.stringify({ message_type: type, payload, timestamp: now });
}

function parseFrame(data: Buffer | ArrayBuffer | Buffer[]): WsClientFrame | undefined {
  const text = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = WsClientFrame.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
