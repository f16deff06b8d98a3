import { Permission } from '@elizabeth/protocol';

import { AppError } from '../../lib/errors.js';
import type { RoomAuth } from '../sessions/session-auth.js';

const NAMES: Record<number, string> = { 1: 'view', 2: 'edit', 4: 'share', 8: 'delete' };

/**
 * Management (settings, permissions, sessions, deleting the room) needs DELETE in the token
 * only, so a session that had it can restore a room whose DELETE bit was cleared.
 */
export function requireManage(auth: RoomAuth): void {
  if (auth.session.share_link_id !== null) {
    throw new AppError('PERMISSION_DENIED', "A share link's session cannot manage the room");
  }
  if ((auth.claims.permission & Permission.DELETE) === 0) {
    throw new AppError('PERMISSION_DENIED', 'Managing this room needs a session with the delete permission');
  }
}

/** Content actions need the bit in both the room (now) and the token (at issue time). */
export function requireContentPermission(auth: RoomAuth, bit: number): void {
  if ((auth.room.permission & bit) === 0) {
    throw new AppError('PERMISSION_DENIED', `The room does not allow ${NAMES[bit] ?? 'this'}`);
  }
  if ((auth.claims.permission & bit) === 0) {
    throw new AppError('PERMISSION_DENIED', `This session may not ${NAMES[bit] ?? 'do this'}`);
  }
}

/** The contents a share link's session is limited to; undefined = the whole room. */
export function linkScope(auth: RoomAuth): Set<number> | undefined {
  const ids = auth.link?.content_ids;
  return ids ? new Set(JSON.parse(ids) as number[]) : undefined;
}

/** Fails like a missing content when a scoped link's session names a content outside its scope. */
export function requireInScope(auth: RoomAuth, id: number): void {
  const scope = linkScope(auth);
  if (scope && !scope.has(id)) throw new AppError('NOT_FOUND', 'Content not found');
}
