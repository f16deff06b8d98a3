import { Permission, type TokenClaims } from '@elizabeth/protocol';
import type { Kysely } from 'kysely';

import type { DB } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, roomReasonError } from '../../lib/errors.js';
import { parseRoomAddress } from '../rooms/room-name.js';
import type { RoomRow } from '../rooms/rooms.repository.js';
import { type ShareLinkRow, shareLinksRepository } from '../share-links/share-links.repository.js';
import { type SessionRow, sessionsRepository } from './sessions.repository.js';
import type { TokenSigner } from './token-signer.js';

/** Who is calling a room route: the room as it is now, the token's claims and its session. */
export interface RoomAuth {
  room: RoomRow;
  claims: TokenClaims;
  session: SessionRow;
  /** The share link that issued the session, if a link did (its scope and limits apply). */
  link?: ShareLinkRow;
}

export interface AuthenticateOptions {
  /**
   * Lets a token without VIEW through (the room still needs VIEW): a drop-box link's session
   * (EDIT only) posts and uploads on the routes that say so, and sees nothing.
   */
  allowWithoutView?: boolean;
}

/** Fails unless the room can be used now: not expired, not closed. */
export function assertRoomOpen(room: RoomRow, now: number): void {
  if (room.expire_at <= now) throw new AppError('ROOM_EXPIRED', `Room ${room.slug} has expired`);
  if (room.status !== 0) throw roomReasonError('ROOM_NOT_ENTERABLE', `Room ${room.slug} is closed`, 'closed');
}

/**
 * Verifies an access token for a room: signature and expiry, that it was issued for this room
 * address, that the room is usable and lets the token view it, and that its session is live.
 */
export class SessionAuthenticator {
  constructor(private readonly deps: { db: Kysely<DB>; signer: TokenSigner; clock: Clock }) {}

  async authenticate(
    rawAddress: string,
    token: string,
    options: AuthenticateOptions = {},
  ): Promise<RoomAuth> {
    const address = parseRoomAddress(rawAddress);
    const claims = await this.deps.signer.verify(token, 'access');
    if (claims.room_name !== address) {
      throw new AppError('AUTHENTICATION_FAILED', 'This token was not issued for this room');
    }
    const { room, session } = await sessionsRepository.findRoomAndSession(
      this.deps.db,
      { slug: address },
      claims.jti,
    );
    if (!room) throw new AppError('ROOM_NOT_FOUND', `Room ${address} does not exist`);
    return this.check(room, claims, session, options);
  }

  /**
   * For routes addressed by content id: the token alone names the room. The caller looks the
   * content up only afterwards, in that room, so a bad token gets the same 401 whether the id
   * exists or not, and a good one the same 404 for a missing id and another room's id.
   */
  async authenticateToken(token: string): Promise<RoomAuth> {
    const claims = await this.deps.signer.verify(token, 'access');
    const { room, session } = await sessionsRepository.findRoomAndSession(
      this.deps.db,
      { id: claims.room_id },
      claims.jti,
    );
    if (!room || claims.room_name !== room.slug) {
      throw new AppError('AUTHENTICATION_FAILED', 'The room of this token is gone or has moved');
    }
    return this.check(room, claims, session);
  }

  /** `session`: the row of the token's jti, read with the room. */
  private async check(
    room: RoomRow,
    claims: TokenClaims,
    session: SessionRow | undefined,
    options: AuthenticateOptions = {},
  ): Promise<RoomAuth> {
    const now = this.deps.clock.now();
    if (room.id !== claims.room_id) {
      throw new AppError('AUTHENTICATION_FAILED', 'This token was not issued for this room');
    }
    assertRoomOpen(room, now);
    const denied = () => new AppError('PERMISSION_DENIED', 'Viewing this room is not allowed');
    const tokenViews = (claims.permission & Permission.VIEW) !== 0;
    if ((room.permission & Permission.VIEW) === 0 || (!tokenViews && !options.allowWithoutView))
      throw denied();
    if (!session || session.room_id !== room.id || session.revoked_at !== null || session.expires_at <= now) {
      throw new AppError('AUTHENTICATION_FAILED', 'This session was revoked or has expired');
    }
    // Only a share link's session goes without VIEW (a drop box); a room entry never does.
    if (!tokenViews && session.share_link_id === null) throw denied();
    if (session.share_link_id === null) return { room, claims, session };
    const link = await shareLinksRepository.findById(this.deps.db, session.share_link_id);
    if (!link || link.revoked_at !== null || link.expire_at <= now) {
      throw new AppError(
        'AUTHENTICATION_FAILED',
        'The share link of this session was revoked or has expired',
      );
    }
    return { room, claims, session, link };
  }
}
