import type { ContentView, MessagePage, RoomView, TokenClaims } from '@elizabeth/protocol';

import { getApi } from './api-client';
import { isUsable } from './token-store';

/** Messages per page of the timeline (the first page is fetched early, see below). */
export const MESSAGE_PAGE_SIZE = 50;
/** What the files panel lists. */
const FILE_TYPES = ['image', 'file', 'url'];

/**
 * The room page's early requests (issue 17, "a room that opens in under a second"). When the
 * browser holds a session for the room in the address, everything the workspace shows first is
 * asked for at once, as soon as the page's code runs, instead of one step after another (check
 * the session, load the workspace's code, then messages, then files):
 *
 * - the session check and the room (`tokens/validate` + `GET /rooms/{name}`, the entry flow's own
 *   first step),
 * - the newest page of messages and the file list, with the stored token as it is.
 *
 * Each answer is taken once by the code that would otherwise have asked (`takeEarly`); a
 * refused early request (the session was revoked meanwhile) only means that code asks again the
 * usual way, after the entry flow has sorted the session out.
 */
export interface EarlyRoom {
  slug: string;
  token: string;
  valid: Promise<{ claims: TokenClaims }>;
  room: Promise<RoomView>;
  messages: Promise<MessagePage>;
  files: Promise<ContentView[]>;
}

let early: Partial<EarlyRoom> | undefined;

/** Starts the early requests for `slug` when a usable session is stored (at most once per page). */
export function startEarlyRoom(slug: string): void {
  if (early) return;
  const api = getApi();
  const stored = api.tokens.get(slug);
  if (!stored || !isUsable(stored, Date.now())) return;
  const token = stored.token;
  const quiet = <T>(promise: Promise<T>) => {
    promise.catch(() => undefined); // handled by whoever takes it (or never needed)
    return promise;
  };
  early = {
    slug,
    token,
    valid: quiet(api.validateToken(slug, token)),
    room: quiet(api.findRoom(slug, token)),
    messages: quiet(api.listMessages(slug, { limit: MESSAGE_PAGE_SIZE }, token)),
    files: quiet(api.listContents(slug, FILE_TYPES, token)),
  };
}

/** The early request `key` for `slug` (made with `token` when given), once; undefined otherwise. */
export function takeEarly<K extends 'valid' | 'room' | 'messages' | 'files'>(
  slug: string,
  key: K,
  token?: string,
): EarlyRoom[K] | undefined {
  if (!early || early.slug !== slug || (token !== undefined && early.token !== token)) return undefined;
  const value = early[key];
  delete early[key];
  return value as EarlyRoom[K] | undefined;
}

/** The files panel's list (the `['files', slug]` query): files, images and links, oldest first. */
export async function listRoomFiles(slug: string): Promise<ContentView[]> {
  const api = getApi();
  const answered = await takeEarly(slug, 'files')?.catch(() => undefined);
  if (answered) return answered;
  try {
    return await api.listContents(slug, FILE_TYPES);
  } catch (error) {
    // A server that does not know one of the type names: filter on our side.
    if ((error as { status?: number }).status === 400)
      return (await api.listContents(slug)).filter((c) => c.content_type !== 'text');
    throw error;
  }
}
