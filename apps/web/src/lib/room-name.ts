import {
  ROOM_NAME_MAX_LENGTH,
  ROOM_NAME_MIN_LENGTH,
  ROOM_SLUG_MAX_LENGTH,
  roomNameProblem as protocolProblem,
  type RoomNameProblem as ProtocolProblem,
} from '@elizabeth/protocol/constants';

/**
 * Room-name rules of API.md §1 come from `@elizabeth/protocol` (the server's own): 3–50 Unicode
 * letters or digits, `_` or `-`, starting and ending with a letter or digit, NFC-normalised.
 * Private addresses (`<name>_<random>`) may be longer, so joining accepts up to 100.
 */
export const ROOM_NAME_MIN = ROOM_NAME_MIN_LENGTH;
export const ROOM_NAME_MAX = ROOM_NAME_MAX_LENGTH;
export const ROOM_SLUG_MAX = ROOM_SLUG_MAX_LENGTH;

export type RoomNameProblem = 'empty' | ProtocolProblem;

export function normalizeRoomName(raw: string): string {
  return raw.trim().normalize('NFC');
}

/** The first problem with a name (already normalised), or undefined when it is valid. */
export function roomNameProblem(name: string, maxLength = ROOM_NAME_MAX): RoomNameProblem | undefined {
  if (name.length === 0) return 'empty';
  return protocolProblem(name, maxLength);
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
