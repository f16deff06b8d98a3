/**
 * The zod-free part of the protocol: constants and plain types a browser bundle can import
 * (`@elizabeth/protocol/constants`) without pulling in zod. The schemas import them from here.
 */
export * from './display-name.js';
export * from './room-name.js';

/** Bumped when the HTTP or WebSocket contract changes incompatibly. */
export const PROTOCOL_VERSION = 1;
export const API_PREFIX = '/api/v1';

/** Permission bits of a room and of a token. */
export const Permission = { VIEW: 1, EDIT: 2, SHARE: 4, DELETE: 8 } as const;
export const ALL_PERMISSIONS = 15;

/** Whether every bit of `bit` is set in `mask`. */
export function hasPermission(mask: number, bit: number): boolean {
  return (mask & bit) === bit;
}

/** Every error code of API.md §0 with the HTTP status it is always sent with. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  AUTHENTICATION_FAILED: 401,
  ROOM_NOT_ENTERABLE: 401,
  PERMISSION_DENIED: 403,
  ROOM_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ROOM_EXPIRED: 410,
  SHARE_LINK_GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/**
 * Why a room cannot be entered or found, in an error's `details` as `{path: "reason", message}`:
 * the web app shows the exact reason. `similar` (path) names a room whose address differs only
 * in case.
 */
export const ROOM_REASONS = ['entry_limit', 'closed', 'moved', 'expires_soon', 'purged'] as const;
export type RoomReason = (typeof ROOM_REASONS)[number];

/**
 * Why a share link no longer opens or downloads (`410 SHARE_LINK_GONE`), in the error's
 * `details` as `{path: "reason", message}`; `password_required` goes with a `401` for a link
 * that has a password when none (or a wrong one) was sent.
 */
export const SHARE_LINK_REASONS = [
  'expired',
  'revoked',
  'uses_exhausted',
  'downloads_exhausted',
  'password_required',
] as const;
export type ShareLinkReason = (typeof SHARE_LINK_REASONS)[number];

/** The query parameter of a share link's web address: `/<room address>?s=<secret>`. */
export const SHARE_LINK_QUERY = 's';
