import { createHash } from 'node:crypto';

import {
  type IssueTokenBody,
  type IssueTokenResponse,
  Permission,
  type RefreshResponse,
  type SessionIdentity,
  type SessionView,
  type TokenClaims,
} from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { AppConfig } from '../../config/types.js';
import type { DB } from '../../db/index.js';
import type { AttemptLimiter } from '../../lib/attempt-limiter.js';
import { type Clock, toIso } from '../../lib/clock.js';
import { AppError, roomReasonError } from '../../lib/errors.js';
import type { PasswordHasher } from '../../lib/password.js';
import type { EventBus } from '../../realtime/events.js';
import { parseRoomAddress } from '../rooms/room-name.js';
import { type RoomRow, roomsRepository } from '../rooms/rooms.repository.js';
import { type Author, authorOf, newAuthorId, parseDisplayName } from './author.js';
import { type ShareLinkRow, shareLinksRepository } from '../share-links/share-links.repository.js';
import { assertRoomOpen, type RoomAuth, type SessionAuthenticator } from './session-auth.js';
import { type SessionRow, sessionsRepository } from './sessions.repository.js';
import type { TokenSigner } from './token-signer.js';

/** Shortest token lifetime worth issuing; a room closer to its expiry cannot be entered. */
const MIN_TOKEN_SECONDS = 5;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface SessionsDeps {
  db: Kysely<DB>;
  config: AppConfig;
  clock: Clock;
  events: EventBus;
  signer: TokenSigner;
  authenticator: SessionAuthenticator;
  passwordAttempts: AttemptLimiter;
  passwords: PasswordHasher;
  /** Whether a session has an open socket; provided by the realtime gateway. */
  isConnected?: (jti: string) => boolean;
}

/**
 * The permission a rotated or refreshed session gets: the room's bits as they are now, plus
 * DELETE if the session had it, so a manager who cleared DELETE on the room keeps the power to
 * restore it (API.md §1, management rule).
 */
export const carriedPermission = (room: RoomRow, previous: number) =>
  room.permission | (previous & Permission.DELETE);

/** A share link's session renews into the link's bits, never more than the room has now. */
const linkPermission = (room: RoomRow, link: ShareLinkRow) => link.permission & room.permission;

/** What a new session is made of: its bits, the link that issued it, the expiry cap of that link. */
interface SessionGrant {
  permission: number;
  link?: ShareLinkRow;
}

/**
 * Checks a password against its hash with the attempt limits (per client and per `target`).
 * The attempt is charged before the password is verified and refunded when it was right:
 * concurrent guesses cannot run more verifications than allowed.
 */
export async function checkLimitedPassword(
  deps: Pick<SessionsDeps, 'config' | 'passwordAttempts' | 'passwords'>,
  hash: string,
  password: string,
  client: string,
  target: string,
): Promise<boolean> {
  const attempts = deps.config.auth.password_attempts;
  const ticket = await deps.passwordAttempts.reserve([
    { key: `client:${client}`, max: attempts.max, backoff: true },
    { key: target, max: attempts.room_max, backoff: false },
  ]);
  let valid: boolean;
  try {
    valid = await deps.passwords.verify(hash, password);
  } catch (error) {
    await ticket.refund();
    throw error;
  }
  if (valid) await ticket.refund();
  else await ticket.fail();
  return valid;
}

export class SessionsService {
  constructor(private readonly deps: SessionsDeps) {}

  private get now(): number {
    return this.deps.clock.now();
  }

  /**
   * Token expiry (Unix seconds): the TTL, capped at the room's expiry (and a share link's)
   * less the leeway.
   */
  private expiry(room: RoomRow, ttlSeconds: number, link?: ShareLinkRow): number {
    const nowSeconds = Math.floor(this.now / 1000);
    const until = Math.min(room.expire_at, link?.expire_at ?? Infinity);
    const cap = Math.floor(until / 1000) - this.deps.config.jwt.leeway_seconds;
    const exp = Math.min(nowSeconds + ttlSeconds, cap);
    if (exp - nowSeconds < MIN_TOKEN_SECONDS) {
      throw roomReasonError('ROOM_NOT_ENTERABLE', 'The room expires too soon to be entered', 'expires_soon');
    }
    return exp;
  }

  private async findOpenRoom(rawName: string): Promise<RoomRow> {
    const address = parseRoomAddress(rawName);
    const room = await roomsRepository.findBySlug(this.deps.db, address);
    if (!room) throw new AppError('ROOM_NOT_FOUND', `Room ${address} does not exist`);
    assertRoomOpen(room, this.now);
    return room;
  }

  /**
   * The attempt is charged (per client and per room) before the password is verified and
   * refunded when it was right: concurrent guesses cannot run more verifications than allowed.
   */
  private async checkPassword(room: RoomRow, password: string | undefined, client: string): Promise<void> {
    if (room.password_hash === null) return;
    if (!password) throw new AppError('AUTHENTICATION_FAILED', 'This room needs a password');
    if (!(await checkLimitedPassword(this.deps, room.password_hash, password, client, `room:${room.id}`))) {
      throw new AppError('AUTHENTICATION_FAILED', 'Wrong room password');
    }
  }

  /** An access token for the room's current address, valid for the TTL capped at the room expiry. */
  private signAccess(room: RoomRow, grant: SessionGrant): Promise<{ token: string; claims: TokenClaims }> {
    const exp = this.expiry(room, this.deps.config.jwt.ttl_seconds, grant.link);
    const { permission } = grant;
    return this.deps.signer.sign({ room_id: room.id, room_name: room.slug, permission }, 'access', exp);
  }

  /**
   * The session row of an access token: the token is usable only while it exists. `author` is
   * the person behind it, carried over from the session it replaces (refresh, rotation, move);
   * `link` the share link that issued it, if any.
   */
  private recordSession(
    db: Kysely<DB>,
    claims: TokenClaims,
    author: Author,
    link?: ShareLinkRow,
  ): Promise<SessionRow> {
    return sessionsRepository.insertSession(db, {
      jti: claims.jti,
      room_id: claims.room_id,
      permission: claims.permission,
      created_at: this.now,
      expires_at: claims.exp * 1000,
      revoked_at: null,
      author_id: author.author_id,
      display_name: author.display_name,
      share_link_id: link?.id ?? null,
    });
  }

  /**
   * What a session renews into (rotation, refresh): a room entry carries the room's bits plus
   * its DELETE; a share link's session the link's bits within the room's, while the link lives.
   */
  private async renewalGrant(room: RoomRow, previous: SessionRow | undefined): Promise<SessionGrant> {
    if (previous?.share_link_id === null || previous?.share_link_id === undefined) {
      return { permission: carriedPermission(room, previous?.permission ?? 0) };
    }
    const link = await shareLinksRepository.findById(this.deps.db, previous.share_link_id);
    if (!link || link.revoked_at !== null || link.expire_at <= this.now) {
      throw new AppError(
        'AUTHENTICATION_FAILED',
        'The share link of this session was revoked or has expired',
      );
    }
    return { permission: linkPermission(room, link), link };
  }

  private async signRefresh(
    db: Kysely<DB>,
    room: RoomRow,
    sessionJti: string,
    grant: SessionGrant,
  ): Promise<{ token: string; claims: TokenClaims }> {
    const exp = this.expiry(room, this.deps.config.jwt.refresh_ttl_seconds, grant.link);
    const { permission } = grant;
    const refresh = await this.deps.signer.sign(
      { room_id: room.id, room_name: room.slug, permission },
      'refresh',
      exp,
    );
    await sessionsRepository.insertRefreshToken(db, {
      room_id: room.id,
      jti: refresh.claims.jti,
      session_jti: sessionJti,
      token_hash: sha256(refresh.token),
      created_at: this.now,
      expires_at: exp * 1000,
    });
    return refresh;
  }

  /** `POST /rooms/{name}/tokens`: a new session (counts an entry) or the rotation of one. */
  async issue(rawName: string, body: IssueTokenBody, client: string): Promise<IssueTokenResponse> {
    const room = await this.findOpenRoom(rawName);
    const previous = body.token
      ? await this.deps.authenticator.authenticate(room.slug, body.token, { allowWithoutView: true })
      : undefined;
    if (!previous) await this.checkPassword(room, body.password, client);
    // A new session may bring its display name; a rotated one keeps its person and name.
    const author: Author = previous
      ? authorOf(previous.session)
      : { author_id: newAuthorId(), display_name: parseDisplayName(body.display_name) };

    const grant = previous
      ? await this.renewalGrant(room, previous.session)
      : { permission: room.permission };
    const access = await this.signAccess(room, grant);

    const refresh = await this.deps.db.transaction().execute(async (trx) => {
      if (previous) {
        await sessionsRepository.rebindRefreshTokens(trx, previous.claims.jti, access.claims.jti);
        // A session revoked since it was authenticated (password change, logout, revocation
        // racing this request) cannot be rotated into a fresh one.
        if (!(await sessionsRepository.revokeSession(trx, previous.claims.jti, this.now))) {
          throw new AppError('AUTHENTICATION_FAILED', 'This session was revoked or has expired');
        }
      } else {
        if (!(await roomsRepository.grantEntry(trx, room.id, this.now))) {
          throw roomReasonError(
            'ROOM_NOT_ENTERABLE',
            'The room has reached its entry limit or is closed',
            room.status !== 0 ? 'closed' : 'entry_limit',
          );
        }
        // grantEntry holds the room row: a password change that committed after the password
        // was checked shows here, and one that commits later revokes this session.
        const current = await roomsRepository.findById(trx, room.id);
        if (!current || current.password_hash !== room.password_hash) {
          throw new AppError('AUTHENTICATION_FAILED', 'The room password changed; enter it again');
        }
      }
      await this.recordSession(trx, access.claims, author, grant.link);
      return body.with_refresh_token ? this.signRefresh(trx, room, access.claims.jti, grant) : undefined;
    });

    if (!previous) this.publishCreated(room, access.claims.jti);
    return this.tokenResponse(access, refresh, author);
  }

  private publishCreated(room: RoomRow, jti: string): void {
    this.deps.events.publish({ type: 'session_created', room_id: room.id, slug: room.slug, jti });
  }

  /**
   * A session issued by a share link (API.md, "Share links"): the link's bits within the room's,
   * tokens capped at the link's expiry. `claim` runs in the transaction before the session is
   * recorded (it takes one of the link's uses and throws when there is none left); no entry of
   * the room is counted.
   */
  async openLinkSession(
    room: RoomRow,
    link: ShareLinkRow,
    withRefreshToken: boolean,
    claim: (trx: Kysely<DB>) => Promise<void>,
  ): Promise<IssueTokenResponse> {
    const grant = { permission: linkPermission(room, link), link };
    const access = await this.signAccess(room, grant);
    const author: Author = { author_id: newAuthorId(), display_name: null };
    const refresh = await this.deps.db.transaction().execute(async (trx) => {
      await claim(trx);
      await this.recordSession(trx, access.claims, author, link);
      return withRefreshToken ? this.signRefresh(trx, room, access.claims.jti, grant) : undefined;
    });
    this.publishCreated(room, access.claims.jti);
    return this.tokenResponse(access, refresh, author);
  }

  private tokenResponse(
    access: { token: string; claims: TokenClaims },
    refresh: { token: string; claims: TokenClaims } | undefined,
    author: Author,
  ): IssueTokenResponse {
    return {
      token: access.token,
      expires_at: toIso(access.claims.exp * 1000),
      claims: access.claims,
      ...(refresh
        ? { refresh_token: refresh.token, refresh_token_expires_at: toIso(refresh.claims.exp * 1000) }
        : {}),
      ...author,
    };
  }

  /**
   * After the caller moved the room's address (Share off/on): a session for the new address
   * replaces the caller's (same permission carried, no entry counted), so the page that made
   * the change keeps working there (API.md §1, permissions).
   */
  async carryToNewAddress(auth: RoomAuth): Promise<IssueTokenResponse> {
    const room = await roomsRepository.findById(this.deps.db, auth.room.id);
    if (!room) throw new AppError('ROOM_NOT_FOUND', `Room ${auth.room.slug} does not exist`);
    assertRoomOpen(room, this.now);
    const grant = { permission: carriedPermission(room, auth.claims.permission) };
    const access = await this.signAccess(room, grant);
    const refresh = await this.deps.db.transaction().execute(async (trx) => {
      if (!(await sessionsRepository.revokeSession(trx, auth.claims.jti, this.now))) {
        throw new AppError('AUTHENTICATION_FAILED', 'This session was revoked or has expired');
      }
      await this.recordSession(trx, access.claims, authorOf(auth.session));
      return this.signRefresh(trx, room, access.claims.jti, grant);
    });
    return {
      token: access.token,
      expires_at: toIso(access.claims.exp * 1000),
      claims: access.claims,
      refresh_token: refresh.token,
      refresh_token_expires_at: toIso(refresh.claims.exp * 1000),
      ...authorOf(auth.session),
    };
  }

  /** `POST /rooms/{name}/tokens/validate`. */
  async validate(rawName: string, token: string): Promise<{ claims: TokenClaims }> {
    const auth = await this.deps.authenticator.authenticate(rawName, token);
    return { claims: auth.claims };
  }

  /** `POST /rooms/{name}/password/verify`: checks a password, changes nothing. */
  async verifyPassword(rawName: string, password: string, client: string): Promise<{ valid: true }> {
    const room = await this.findOpenRoom(rawName);
    await this.checkPassword(room, password, client);
    return { valid: true };
  }

  private present(session: SessionRow): SessionView {
    return {
      jti: session.jti,
      permission: session.permission,
      created_at: toIso(session.created_at),
      expires_at: toIso(session.expires_at),
      revoked_at: session.revoked_at === null ? null : toIso(session.revoked_at),
      connected: this.deps.isConnected?.(session.jti) ?? false,
      ...authorOf(session),
    };
  }

  /** `GET /rooms/{name}/session`: the caller's own session. */
  identity(auth: RoomAuth): SessionIdentity {
    return { jti: auth.session.jti, permission: auth.session.permission, ...authorOf(auth.session) };
  }

  /**
   * `PATCH /rooms/{name}/session`: sets or clears the caller's display name. Every session of
   * the same person in the room and every content they posted take the new name in one
   * transaction; the room hears `member_renamed` (docs/WEBSOCKET.md).
   */
  async rename(auth: RoomAuth, rawName: string | null): Promise<SessionIdentity> {
    const displayName = parseDisplayName(rawName);
    const { author_id } = authorOf(auth.session);
    await this.deps.db
      .transaction()
      .execute((trx) =>
        sessionsRepository.renameAuthor(trx, auth.room.id, auth.session.jti, author_id, displayName),
      );
    this.deps.events.publish({
      type: 'member_renamed',
      room_id: auth.room.id,
      slug: auth.room.slug,
      author_id,
      display_name: displayName,
    });
    return {
      jti: auth.session.jti,
      permission: auth.session.permission,
      author_id,
      display_name: displayName,
    };
  }

  /** `GET /rooms/{name}/tokens`: live sessions newest first, or all of them. */
  async list(auth: RoomAuth, includeInactive: boolean): Promise<SessionView[]> {
    const rows = await sessionsRepository.listSessions(
      this.deps.db,
      auth.room.id,
      includeInactive ? {} : { activeAt: this.now },
    );
    return rows.map((row) => this.present(row));
  }

  /** `DELETE /rooms/{name}/tokens/{jti}`: revokes one session of this room. */
  async revoke(auth: RoomAuth, jti: string): Promise<{ revoked: boolean }> {
    const session = await sessionsRepository.findSession(this.deps.db, jti);
    if (!session || session.room_id !== auth.room.id)
      throw new AppError('NOT_FOUND', 'No such session in this room');
    const revoked = await this.deps.db
      .transaction()
      .execute((trx) => sessionsRepository.revokeSession(trx, jti, this.now));
    if (revoked) {
      this.deps.events.publish({
        type: 'sessions_revoked',
        room_id: auth.room.id,
        slug: auth.room.slug,
        jtis: [jti],
        reason: 'session_revoked',
      });
    }
    return { revoked };
  }

  /** `POST /auth/refresh`: a new access token (and, with rotation, a new refresh token). */
  async refresh(refreshToken: string): Promise<RefreshResponse> {
    const invalid = () => new AppError('AUTHENTICATION_FAILED', 'Invalid or expired refresh token');
    const claims = await this.deps.signer.verify(refreshToken, 'refresh').catch(() => {
      throw invalid();
    });
    const { db } = this.deps;
    if (await sessionsRepository.isBlacklisted(db, claims.jti, this.now)) throw invalid();
    const row = await sessionsRepository.findRefreshTokenByHash(db, sha256(refreshToken));
    if (
      !row ||
      row.room_id !== claims.room_id ||
      row.revoked_at !== null ||
      row.used_at !== null ||
      row.expires_at <= this.now
    ) {
      throw invalid();
    }
    const room = await roomsRepository.findById(db, claims.room_id);
    if (!room) throw invalid();
    assertRoomOpen(room, this.now);
    const oldSession = await sessionsRepository.findSession(db, row.session_jti);
    const grant = await this.renewalGrant(room, oldSession).catch(() => {
      throw invalid();
    });
    const access = await this.signAccess(room, grant);
    const rotate = this.deps.config.jwt.enable_refresh_token_rotation;

    const next = await db.transaction().execute(async (trx) => {
      if (rotate) {
        if (!(await sessionsRepository.consumeRefreshToken(trx, row.id, this.now))) throw invalid();
      } else {
        await sessionsRepository.rebindRefreshTokens(trx, row.session_jti, access.claims.jti);
      }
      await this.recordSession(
        trx,
        access.claims,
        oldSession ? authorOf(oldSession) : { author_id: newAuthorId(), display_name: null },
        grant.link,
      );
      await sessionsRepository.revokeSession(trx, row.session_jti, this.now);
      if (!rotate) return { token: refreshToken, exp: claims.exp };
      await sessionsRepository.blacklist(trx, claims.jti, claims.exp * 1000, this.now);
      const refreshed = await this.signRefresh(trx, room, access.claims.jti, grant);
      return { token: refreshed.token, exp: refreshed.claims.exp };
    });

    return {
      access_token: access.token,
      access_token_expires_at: toIso(access.claims.exp * 1000),
      refresh_token: next.token,
      refresh_token_expires_at: toIso(next.exp * 1000),
    };
  }

  /** `POST /auth/logout`: ends the session of an access token and its refresh tokens. */
  async logout(accessToken: string): Promise<{ revoked: true }> {
    const claims = await this.deps.signer.verify(accessToken, 'access');
    const session = await sessionsRepository.findSession(this.deps.db, claims.jti);
    if (!session || session.room_id !== claims.room_id) {
      throw new AppError('AUTHENTICATION_FAILED', 'This session does not exist');
    }
    const revoked = await this.deps.db
      .transaction()
      .execute((trx) => sessionsRepository.revokeSession(trx, claims.jti, this.now));
    if (revoked) {
      const room = await roomsRepository.findById(this.deps.db, claims.room_id);
      this.deps.events.publish({
        type: 'sessions_revoked',
        room_id: claims.room_id,
        slug: room?.slug ?? claims.room_name,
        jtis: [claims.jti],
        reason: 'session_revoked',
      });
    }
    return { revoked: true };
  }
}
