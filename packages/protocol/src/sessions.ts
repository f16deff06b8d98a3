import { z } from 'zod';

import { RoomView, Timestamp } from './rooms.js';

export const TokenClaims = z
  .object({
    sub: z.string(),
    jti: z.string(),
    room_id: z.number().int(),
    room_name: z.string(),
    permission: z.number().int().min(0).max(15),
    token_type: z.enum(['access', 'refresh']),
    iat: z.number().int(),
    exp: z.number().int(),
  })
  .meta({ id: 'TokenClaims' });
export type TokenClaims = z.infer<typeof TokenClaims>;

const Jwt = z.string().max(4096);

/** A display name as sent; the server normalises and checks it (`normalizeDisplayName`). */
const DisplayNameInput = z.string().max(1000);

export const IssueTokenBody = z
  .object({
    password: z.string().max(1000).optional(),
    token: Jwt.optional(),
    with_refresh_token: z.boolean().optional(),
    /**
     * Optional display name of a new session (ignored on rotation, which keeps the name):
     * see `DISPLAY_NAME_MAX_LENGTH` and `normalizeDisplayName`.
     */
    display_name: DisplayNameInput.nullish(),
  })
  .meta({ id: 'IssueTokenBody' });
export type IssueTokenBody = z.infer<typeof IssueTokenBody>;

export const IssueTokenResponse = z
  .object({
    token: z.string(),
    expires_at: Timestamp,
    claims: TokenClaims,
    refresh_token: z.string().optional(),
    refresh_token_expires_at: Timestamp.optional(),
    /** The session's author id (stable across refreshes and rotations) and display name. */
    author_id: z.string(),
    display_name: z.string().nullable(),
  })
  .meta({ id: 'IssueTokenResponse' });
export type IssueTokenResponse = z.infer<typeof IssueTokenResponse>;

/**
 * `POST /rooms/{name}/permissions`: the room, and when the change moved its address (Share
 * off or on) a session for the new address replacing the caller's, so its owner keeps working.
 */
export const UpdatePermissionsResponse = RoomView.extend({ session: IssueTokenResponse.optional() }).meta({
  id: 'UpdatePermissionsResponse',
});
export type UpdatePermissionsResponse = z.infer<typeof UpdatePermissionsResponse>;

export const ValidateTokenBody = z.object({ token: Jwt }).meta({ id: 'ValidateTokenBody' });
export const ValidateTokenResponse = z.object({ claims: TokenClaims }).meta({ id: 'ValidateTokenResponse' });

export const SessionView = z
  .object({
    jti: z.string(),
    permission: z.number().int(),
    created_at: Timestamp,
    expires_at: Timestamp,
    revoked_at: Timestamp.nullable(),
    connected: z.boolean(),
    author_id: z.string(),
    display_name: z.string().nullable(),
  })
  .meta({ id: 'SessionView' });
export type SessionView = z.infer<typeof SessionView>;

export const ListSessionsQuery = z.object({
  include_inactive: z.enum(['true', 'false', '1', '0']).optional(),
});

export const SessionParams = z.object({ name: z.string().max(200), jti: z.string().max(200) });
export const RevokeResponse = z.object({ revoked: z.boolean() }).meta({ id: 'RevokeResponse' });

export const PasswordVerifyBody = z
  .object({ password: z.string().max(1000) })
  .meta({ id: 'PasswordVerifyBody' });
export const PasswordVerifyResponse = z
  .object({ valid: z.literal(true) })
  .meta({ id: 'PasswordVerifyResponse' });

export const RefreshBody = z.object({ refresh_token: Jwt }).meta({ id: 'RefreshBody' });
export const RefreshResponse = z
  .object({
    access_token: z.string(),
    access_token_expires_at: Timestamp,
    refresh_token: z.string(),
    refresh_token_expires_at: Timestamp,
  })
  .meta({ id: 'RefreshResponse' });
export type RefreshResponse = z.infer<typeof RefreshResponse>;

export const LogoutBody = z.object({ access_token: Jwt }).meta({ id: 'LogoutBody' });

/** `GET`/`PATCH /rooms/{name}/session`: the caller's own session and how others see it. */
export const SessionIdentity = z
  .object({
    jti: z.string(),
    permission: z.number().int(),
    author_id: z.string(),
    display_name: z.string().nullable(),
  })
  .meta({ id: 'SessionIdentity' });
export type SessionIdentity = z.infer<typeof SessionIdentity>;

/** `PATCH /rooms/{name}/session`: a new display name; null or "" removes it. */
export const UpdateSessionBody = z
  .object({ display_name: DisplayNameInput.nullable() })
  .meta({ id: 'UpdateSessionBody' });
export type UpdateSessionBody = z.infer<typeof UpdateSessionBody>;
