import { Permission } from '@elizabeth/protocol';

import { AppError } from '../../lib/errors.js';
import type { RoomAuth } from '../sessions/session-auth.js';

const NAMES: Record<number, string> = { 1: 'view', 2: 'edit', 4: 'share', 8: 'delete' };

/**
 * Management (settings, permissions, sessions, deleting the room) needs DELETE in the token
 * only, so a session that had it can restore a room whose DELETE bit was cleared.
 */
export function requireManage(auth: RoomAuth): void {
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
