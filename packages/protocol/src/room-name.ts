/**
 * Room names: 3–50 Unicode letters or digits, `_` or `-`, starting and ending with a letter or
 * digit, NFC-normalised, case-sensitive. Combining marks are allowed inside a name so scripts
 * that need them (Devanagari, Thai, …) work. Private addresses (`<name>_<random>`) follow the
 * same alphabet but may be longer, so lookups accept up to `ROOM_SLUG_MAX_LENGTH`.
 */
export const ROOM_NAME_MIN_LENGTH = 3;
export const ROOM_NAME_MAX_LENGTH = 50;
export const ROOM_SLUG_MAX_LENGTH = 100;

const ALPHABET = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}_-]*[\p{L}\p{M}\p{N}]$/u;
/** The same rule as a string, for clients that build their own RegExp with the `u` flag. */
export const ROOM_NAME_PATTERN = ALPHABET.source;

/**
 * Names whose address the server answers itself (`/api/…`, `/metrics`): a room there could be
 * created through the API but never opened in the browser. Exact and case-sensitive, like
 * the server's routes (`/API` is a room's address).
 */
export const RESERVED_ROOM_NAMES: readonly string[] = ['api', 'metrics'];

export type RoomNameProblem = 'too_short' | 'too_long' | 'invalid_characters' | 'invalid_edges' | 'reserved';

export function normalizeRoomName(raw: string): string {
  return raw.normalize('NFC');
}

/** The problem with a (normalised) name, or undefined when it is a valid new room name. */
export function roomNameProblem(name: string, maxLength = ROOM_NAME_MAX_LENGTH): RoomNameProblem | undefined {
  const length = [...name].length;
  if (length < ROOM_NAME_MIN_LENGTH) return 'too_short';
  if (length > maxLength) return 'too_long';
  if (!/^[\p{L}\p{M}\p{N}_-]+$/u.test(name)) return 'invalid_characters';
  if (!ALPHABET.test(name)) return 'invalid_edges';
  if (RESERVED_ROOM_NAMES.includes(name)) return 'reserved';
  return undefined;
}

export const ROOM_NAME_MESSAGES: Record<RoomNameProblem, string> = {
  too_short: `Room names have at least ${ROOM_NAME_MIN_LENGTH} characters`,
  too_long: `Room names have at most ${ROOM_NAME_MAX_LENGTH} characters`,
  invalid_characters: 'Room names may only contain letters, digits, "_" and "-"',
  invalid_edges: 'Room names must start and end with a letter or digit',
  reserved: `This name is reserved: the server uses /${RESERVED_ROOM_NAMES.join(' and /')} itself`,
};
