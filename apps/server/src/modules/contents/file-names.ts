import { lookup } from 'mime-types';

const MAX_NAME_BYTES = 255;
/** C0 and C1 control characters, DEL, and the bidi overrides that disguise extensions. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The name a file is shown and downloaded under. Storage keys never come from it; it is
 * cleaned only so that it displays safely and survives `Content-Disposition` unchanged:
 * control characters go, path separators become `_` (so no client ever sees a path), and it is
 * cut to 255 UTF-8 bytes. Quotes, `..` and any Unicode stay as they were.
 */
export function displayFileName(raw: string): string {
  let name = raw.normalize('NFC').replace(UNSAFE, '').replace(/[/\\]/g, '_').trim();
  if (name === '' || /^\.+$/.test(name)) name = name.replace(/\./g, '_') || 'file';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    const chars = [...name];
    while (Buffer.byteLength(chars.join('')) > MAX_NAME_BYTES) chars.pop();
    name = chars.join('');
  }
  return name;
}

/** `type/subtype` with optional parameters, nothing a header could be split with. */
const MIME =
  /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/i;

/** The MIME type a file is stored with: the one declared if it is one, else from its name. */
export function mimeTypeOf(fileName: string, declared?: string | null): string {
  const given = declared?.trim();
  if (given && given.length <= 255 && MIME.test(given) && given !== 'application/octet-stream') {
    return given.toLowerCase();
  }
  return lookup(fileName) || 'application/octet-stream';
}

/** API.md §0: images are files whose MIME type starts with `image/`. */
export const isImage = (mimeType: string): boolean => mimeType.startsWith('image/');
