import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types for Kysely. Conventions shared by every table:
 * - timestamps are epoch milliseconds (`number`), stored as 64-bit integers so that `<`/`>`
 *   compare exactly on both engines;
 * - sizes and counters are 64-bit integers read back as `number` (values stay below 2^53);
 * - there are no boolean columns: a flag is the nullable moment it happened (`revoked_at`,
 *   `used_at`, `consumed_at`), which also records when.
 */

/** Epoch milliseconds. */
export type Millis = number;

/** A column with a database default: optional on insert, always present on select. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

/** Room status codes as stored; the API shows them as strings. */
export const ROOM_STATUS = { open: 0, closed: 2 } as const;
export type RoomStatusCode = (typeof ROOM_STATUS)[keyof typeof ROOM_STATUS];

/** Content kinds as stored; the API shows them as strings. */
export const CONTENT_TYPE = { text: 0, image: 1, file: 2, url: 3 } as const;
export type ContentTypeCode = (typeof CONTENT_TYPE)[keyof typeof CONTENT_TYPE];

export type UploadKind = 'simple' | 'tus';

export interface RoomsTable {
  id: Generated<number>;
  name: string;
  slug: string;
  /** Argon2id PHC string; null = no password. */
  password_hash: string | null;
  status: Defaulted<RoomStatusCode>;
  /** Bitmask: 1 view, 2 edit, 4 share, 8 delete. */
  permission: number;
  max_size: number;
  current_size: Defaulted<number>;
  max_times_entered: number;
  current_times_entered: Defaulted<number>;
  expire_at: Millis;
  /** When SHARE was last cleared; the reserved-name lock counts from here. */
  share_disabled_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

/**
 * One row per issued access token. Every column is an integer or text: on PostgreSQL the token
 * check reads a session as JSON beside its room (`sessionsRepository.findRoomAndSession`), and
 * test/sessions/room-and-session.test.ts fails if a column would not come back the same.
 */
export interface SessionsTable {
  id: Generated<number>;
  jti: string;
  room_id: number;
  permission: number;
  created_at: Millis;
  expires_at: Millis;
  revoked_at: Millis | null;
  /**
   * Public id of the person behind the session, kept by its refreshed/rotated successors (0007).
   * The server always writes it (and 0007 filled it in); null only for rows written by hand.
   */
  author_id: Defaulted<string | null>;
  /** Optional display name (0007), normalised by `normalizeDisplayName`. */
  display_name: Defaulted<string | null>;
  /** The share link that issued this session (0006); null for a room entry. */
  share_link_id: Defaulted<number | null>;
}

/**
 * A capability link of a room (0006). `burn_after_reading` is 0/1: a setting, not a moment.
 * `downloads_pending` counts the link's download leases: transfers under way that hold a slot
 * of `max_downloads` (0008).
 */
export interface ShareLinksTable {
  id: Generated<number>;
  room_id: number;
  /** Lowercase hex SHA-256 of the secret. */
  secret_hash: string;
  /** With the server's key, derives the secret again (shown to managers). */
  nonce: string;
  permission: number;
  password_hash: string | null;
  expire_at: Millis;
  max_uses: number | null;
  uses: Defaulted<number>;
  max_downloads: number | null;
  downloads: Defaulted<number>;
  downloads_pending: Defaulted<number>;
  burn_after_reading: Defaulted<number>;
  /** JSON array of content ids; null = the whole room. */
  content_ids: string | null;
  /** The session (jti) that made it. */
  created_by: string | null;
  created_at: Millis;
  revoked_at: Millis | null;
}

/**
 * One download slot of a share link held by a transfer under way (0008). The transfer renews
 * `lease_until`; a lapsed lease (its server died) is taken back by the next reservation of the
 * link or by the lifecycle pass, which also lowers `share_links.downloads_pending`.
 */
export interface ShareLinkDownloadLeasesTable {
  id: Generated<number>;
  link_id: number;
  lease_until: Millis;
  created_at: Millis;
}

export interface RefreshTokensTable {
  id: Generated<number>;
  room_id: number;
  jti: string;
  /** The access-token jti (session) this refresh token belongs to. */
  session_jti: string;
  /** Lowercase hex SHA-256 of the refresh JWT; the token itself is never stored. */
  token_hash: string;
  created_at: Millis;
  expires_at: Millis;
  used_at: Millis | null;
  revoked_at: Millis | null;
}

export interface TokenBlacklistTable {
  jti: string;
  expires_at: Millis;
  created_at: Millis;
}

/** The address of a purged room, kept for a while (migration 0005). */
export interface RoomTombstonesTable {
  slug: string;
  expired_at: Millis;
  forget_at: Millis;
}

export interface ContentsTable {
  id: Generated<number>;
  room_id: number;
  content_type: ContentTypeCode;
  text: string | null;
  url: string | null;
  file_name: string | null;
  /** Where the bytes live in blob storage; never leaves the server. */
  storage_key: string | null;
  size: Defaulted<number>;
  mime_type: string | null;
  sequence_number: Defaulted<number>;
  created_at: Millis;
  updated_at: Millis;
  /** The poster's session `author_id` and display name (0007); null before display names existed. */
  author_id: Defaulted<string | null>;
  author_name: Defaulted<string | null>;
}

export interface UploadReservationsTable {
  id: Generated<number>;
  room_id: number;
  session_jti: string;
  kind: UploadKind;
  /** JSON text; parse and validate on read. */
  manifest: string;
  reserved_size: number;
  /** tus upload id, unique so a tus request finds its reservation. */
  upload_id: string | null;
  storage_key: string | null;
  created_at: Millis;
  expires_at: Millis;
  consumed_at: Millis | null;
  /** When an upload request claimed the reservation (0002); null = not yet used. */
  started_at: Millis | null;
  /** The server process streaming it (0003): one-shot and claimed two-step uploads only. */
  owner: string | null;
}

/** Stored bytes still to delete; a row leaves only after the bytes are gone. */
export interface BlobDeletionsTable {
  id: Generated<number>;
  storage_key: string;
  created_at: Millis;
}

export interface DB {
  rooms: RoomsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  token_blacklist: TokenBlacklistTable;
  contents: ContentsTable;
  upload_reservations: UploadReservationsTable;
  blob_deletions: BlobDeletionsTable;
  room_tombstones: RoomTombstonesTable;
  share_links: ShareLinksTable;
  share_link_download_leases: ShareLinkDownloadLeasesTable;
}

export type RoomRow = Selectable<RoomsTable>;
export type NewRoom = Insertable<RoomsTable>;
export type RoomUpdate = Updateable<RoomsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type NewRefreshToken = Insertable<RefreshTokensTable>;
export type TokenBlacklistRow = Selectable<TokenBlacklistTable>;
export type ContentRow = Selectable<ContentsTable>;
export type NewContent = Insertable<ContentsTable>;
export type ContentUpdate = Updateable<ContentsTable>;
export type UploadReservationRow = Selectable<UploadReservationsTable>;
export type NewUploadReservation = Insertable<UploadReservationsTable>;
export type BlobDeletionRow = Selectable<BlobDeletionsTable>;
