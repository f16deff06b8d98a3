import { normalizeRoomName } from '@elizabeth/protocol';

import { ClientError, EXIT } from './errors.js';
import type { Translate } from './i18n.js';

export interface RoomAddress {
  /** The server's origin plus its base path, without a trailing slash: `https://host` or `https://host/share`. */
  base: string;
  /** The room's address (name or private slug), NFC-normalised. */
  room: string;
}

/**
 * A room as users copy it from the browser: `https://host/room`, `http://host:port/base/room`,
 * `host:port/room` (http), or a bare `room` with the server from `--server` / `ELIZABETH_URL`.
 */
export function parseRoomAddress(input: string, server: string | undefined, t: Translate): RoomAddress {
  const trimmed = input.trim().replace(/\/+$/, '');
  if (trimmed === '') throw new ClientError(t('bad_room', { input }), EXIT.USAGE);
  if (!trimmed.includes('/')) {
    const room = normalizeRoomName(decodeURIComponent(trimmed));
    if (server === undefined) throw new ClientError(t('no_server', { room }), EXIT.USAGE);
    return { base: serverBase(server, input, t), room };
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ClientError(t('bad_room', { input }), EXIT.USAGE);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClientError(t('bad_room', { input }), EXIT.USAGE);
  }
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const last = segments.pop();
  if (last === undefined) throw new ClientError(t('bad_room', { input }), EXIT.USAGE);
  const path = segments.length > 0 ? `/${segments.join('/')}` : '';
  return { base: `${url.origin}${path}`, room: normalizeRoomName(decodeURIComponent(last)) };
}

function serverBase(server: string, input: string, t: Translate): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
  try {
    const url = new URL(withScheme);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    throw new ClientError(t('bad_room', { input: `${server} ${input}` }), EXIT.USAGE);
  }
}

/** The room's page (what `open` shows as a QR code). */
export function roomPageUrl(address: RoomAddress): string {
  return `${address.base}/${encodeURIComponent(address.room)}`;
}
