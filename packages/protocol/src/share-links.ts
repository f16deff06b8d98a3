import { z } from 'zod';

import { Timestamp } from './rooms.js';
import { IssueTokenResponse } from './sessions.js';

/**
 * Share links (API.md, "Share links"): capability links of a room with their own permission
 * bits, optional password, expiry, entry and download limits, optionally scoped to chosen
 * contents. The secret is shown to managers; the database keeps its hash only.
 */
export const CreateShareLinkBody = z
  .object({
    /** Bits (1 view, 2 edit, 4 share, 8 delete), a subset of the room's; 2 alone is a drop box. */
    permission: z.number().int().min(1).max(15),
    password: z.string().min(1).max(1000).optional(),
    /** From now; at most until the room's expiry (the default). */
    expires_in_seconds: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 86400)
      .optional(),
    /** How many times the link may be opened (sessions issued). */
    max_uses: z.number().int().positive().max(1_000_000).optional(),
    /** File links only: completed downloads allowed, all scoped files together. */
    max_downloads: z.number().int().positive().max(1_000_000).optional(),
    /** With `max_downloads`: delete the scoped files when the last download completes. */
    burn_after_reading: z.boolean().optional(),
    /** Scope: only these contents of the room (none = the whole room). */
    content_ids: z.array(z.number().int().positive()).min(1).max(100).optional(),
  })
  .meta({ id: 'CreateShareLinkBody' });
export type CreateShareLinkBody = z.infer<typeof CreateShareLinkBody>;

export const ShareLinkView = z
  .object({
    id: z.number().int(),
    permission: z.number().int(),
    password_protected: z.boolean(),
    expire_at: Timestamp,
    max_uses: z.number().int().nullable(),
    uses: z.number().int(),
    max_downloads: z.number().int().nullable(),
    downloads: z.number().int(),
    burn_after_reading: z.boolean(),
    content_ids: z.array(z.number().int()).nullable(),
    created_at: Timestamp,
    revoked_at: Timestamp.nullable(),
    /** The secret, or null when the server's key changed since the link was made. */
    secret: z.string().nullable(),
    /** `/<room address>?s=<secret>` (a path on this server), or null like `secret`. */
    path: z.string().nullable(),
  })
  .meta({ id: 'ShareLinkView' });
export type ShareLinkView = z.infer<typeof ShareLinkView>;

export const ShareLinkParams = z.object({
  name: z.string().max(200),
  id: z.coerce.number().int().positive(),
});

export const ListShareLinksQuery = z.object({
  include_inactive: z.enum(['true', 'false', '1', '0']).optional(),
});

export const OpenShareLinkBody = z
  .object({
    secret: z.string().min(1).max(200),
    password: z.string().max(1000).optional(),
    with_refresh_token: z.boolean().optional(),
  })
  .meta({ id: 'OpenShareLinkBody' });
export type OpenShareLinkBody = z.infer<typeof OpenShareLinkBody>;

/** What the visitor of a link may know about it. */
export const ShareLinkAccess = z
  .object({
    id: z.number().int(),
    permission: z.number().int(),
    expire_at: Timestamp,
    content_ids: z.array(z.number().int()).nullable(),
    max_downloads: z.number().int().nullable(),
    downloads_left: z.number().int().nullable(),
    burn_after_reading: z.boolean(),
  })
  .meta({ id: 'ShareLinkAccess' });
export type ShareLinkAccess = z.infer<typeof ShareLinkAccess>;

export const OpenShareLinkResponse = IssueTokenResponse.extend({ link: ShareLinkAccess }).meta({
  id: 'OpenShareLinkResponse',
});
export type OpenShareLinkResponse = z.infer<typeof OpenShareLinkResponse>;
