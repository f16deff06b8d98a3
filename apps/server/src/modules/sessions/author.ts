import { createHash, randomBytes } from 'node:crypto';

import { DISPLAY_NAME_MESSAGES, normalizeDisplayName } from '@elizabeth/protocol';

import { validationError } from '../../lib/errors.js';
import type { SessionRow } from './sessions.repository.js';

/** Who a session is to the others in the room (API.md §2, display names). */
export interface Author {
  author_id: string;
  display_name: string | null;
}

/** A new person: 64 random bits, hex. Never derived from the token or its jti. */
export const newAuthorId = (): string => randomBytes(8).toString('hex');

/**
 * The session's author. Every session the server writes has an `author_id`; a row without one
 * (written by hand) gets a stable id derived one way from its jti, so the jti never leaks.
 */
export function authorOf(session: SessionRow): Author {
  return {
    author_id: session.author_id ?? createHash('sha256').update(session.jti).digest('hex').slice(0, 16),
    display_name: session.display_name,
  };
}

/** The author columns of a content posted by this session (the name as it is now). */
export function postedBy(session: SessionRow): { author_id: string; author_name: string | null } {
  const author = authorOf(session);
  return { author_id: author.author_id, author_name: author.display_name };
}

/** The display name to store, or a 400 `VALIDATION_ERROR` naming the field and the rule. */
export function parseDisplayName(raw: string | null | undefined): string | null {
  const result = normalizeDisplayName(raw);
  if ('problem' in result) {
    const message = DISPLAY_NAME_MESSAGES[result.problem];
    throw validationError(message, [{ path: 'display_name', message }]);
  }
  return result.name;
}
