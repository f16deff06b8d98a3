import {
  normalizeRoomName,
  ROOM_NAME_MESSAGES,
  ROOM_SLUG_MAX_LENGTH,
  roomNameProblem,
} from '@elizabeth/protocol';

import { AppError } from '../../lib/errors.js';

function check(raw: string, maxLength?: number, allowReserved = false): string {
  const name = normalizeRoomName(raw);
  const problem = roomNameProblem(name, maxLength);
  if (problem && !(allowReserved && problem === 'reserved')) {
    throw new AppError('VALIDATION_ERROR', ROOM_NAME_MESSAGES[problem], {
      details: [{ path: 'params.name', message: ROOM_NAME_MESSAGES[problem] }],
    });
  }
  return name;
}

/** A name a new room may take (3–50 characters). */
export const parseNewRoomName = (raw: string): string => check(raw);

/**
 * A room address to look up: a name, or a longer private address. A reserved name is looked
 * up (a room made under it before it was reserved stays reachable); only creating one is refused.
 */
export const parseRoomAddress = (raw: string): string => check(raw, ROOM_SLUG_MAX_LENGTH, true);
