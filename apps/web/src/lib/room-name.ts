/**
 * Room-name rules of API.md §1: 3–50 Unicode letters or digits, `_` or `-`, starting and ending with
 * a letter or digit, NFC-normalised. Combining marks may appear inside a name. Private addresses
 * (`<name>_<random>`) follow the same alphabet and may be longer, so joining accepts up to 100.
 */
export const ROOM_NAME_MIN = 3;
export const ROOM_NAME_MAX = 50;
export const ROOM_SLUG_MAX = 100;

export type RoomNameProblem = 'empty' | 'too_short' | 'too_long' | 'invalid_characters' | 'invalid_edges';

const ALLOWED = /^[\p{L}\p{M}\p{N}_-]+$/u;
const EDGES = /^[\p{L}\p{N}](?:.*[\p{L}\p{M}\p{N}])?$/su;

export function normalizeRoomName(raw: string): string {
  return raw.trim().normalize('NFC');
}

/** The first problem with a name (already normalised), or undefined when it is valid. */
export function roomNameProblem(name: string, maxLength = ROOM_NAME_MAX): RoomNameProblem | undefined {
  if (name.length === 0) return 'empty';
  const length = [...name].length;
  if (length < ROOM_NAME_MIN) return 'too_short';
  if (length > maxLength) return 'too_long';
  if (!ALLOWED.test(name)) return 'invalid_characters';
  if (!EDGES.test(name)) return 'invalid_edges';
  return undefined;
}

/** The room addressed by the page URL: the first path segment, percent-decoded and NFC-normalised. */
export function roomFromPathname(pathname: string): string {
  const first = pathname.split('/').find((segment) => segment.length > 0) ?? '';
  let decoded = first;
  try {
    decoded = decodeURIComponent(first);
  } catch {
    decoded = first;
  }
  return decoded.normalize('NFC');
}

export function roomPath(slug: string): string {
  return `/${encodeURIComponent(slug)}`;
}

/** A friendly random name for "create a room" (letters and digits only). */
export function randomRoomName(random: () => number = Math.random): string {
  const words = [
    'amber',
    'birch',
    'cedar',
    'delta',
    'ember',
    'fjord',
    'grove',
    'harbor',
    'iris',
    'juniper',
    'kelp',
    'lumen',
    'maple',
    'nova',
    'orbit',
    'pine',
    'quartz',
    'river',
    'sierra',
    'tide',
  ];
  const pick = () => words[Math.floor(random() * words.length)] ?? 'room';
  const digits = Math.floor(random() * 9000 + 1000);
  return `${pick()}-${pick()}-${digits}`;
}
