/** `elizabeth share`: a share link of a room (API.md, "Share links"), printed with its QR code. */
import { Permission, ShareLinkView } from '@elizabeth/protocol';

import { parseDuration } from '../config/parse.js';
import type { RoomClient } from './api.js';
import { ClientError, EXIT } from './errors.js';

export interface ShareOptions {
  /** A drop box: EDIT without VIEW. */
  editOnly?: boolean;
  /** VIEW and EDIT (default: VIEW only). */
  edit?: boolean;
  /** `1d`, `12h`, `30m` or seconds; default: until the room expires. */
  expires?: string;
  maxUses?: number;
  password?: string;
  json?: boolean;
}

/** The request body of `POST /share-links` for these options; a usage error for a bad one. */
export function shareLinkBody(options: ShareOptions): Record<string, unknown> {
  const permission = options.editOnly
    ? Permission.EDIT
    : Permission.VIEW | (options.edit ? Permission.EDIT : 0);
  const body: Record<string, unknown> = { permission };
  if (options.expires !== undefined) {
    let seconds: number;
    try {
      seconds = parseDuration(options.expires);
    } catch (error) {
      throw new ClientError(`--expires: ${(error as Error).message}`, EXIT.USAGE);
    }
    if (seconds <= 0) throw new ClientError('--expires: must be more than 0 seconds', EXIT.USAGE);
    body.expires_in_seconds = seconds;
  }
  if (options.maxUses !== undefined) body.max_uses = options.maxUses;
  if (options.password !== undefined) body.password = options.password;
  return body;
}

export async function share(
  client: RoomClient,
  options: ShareOptions,
  write: (line: string) => void,
): Promise<ShareLinkView> {
  const link = await client.json(`${client.roomPath}/share-links`, ShareLinkView, {
    method: 'POST',
    body: shareLinkBody(options),
  });
  if (options.json) {
    write(JSON.stringify(link));
    return link;
  }
  const url = `${client.address.base}${link.path ?? ''}`;
  const { default: qrcode } = await import('qrcode');
  write(await qrcode.toString(url, { type: 'terminal', small: true }));
  write(url);
  return link;
}
