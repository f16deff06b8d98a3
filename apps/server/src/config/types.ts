/**
 * The effective configuration of one server process. Keys mirror the YAML tree under `app:`
 * (snake_case, same nesting) so that a value can be traced from the file to the code.
 * Sizes are bytes, durations are seconds, after parsing.
 */
export type JournalMode = 'wal' | 'delete' | 'truncate' | 'persist' | 'memory' | 'off';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type StorageBackend = 'local' | 's3';

export interface AppConfig {
  server: {
    addr: string;
    port: number;
    /** Directory for the SQLite file (default URL), the generated JWT secret and backups. */
    data_dir: string;
    /** Largest JSON (non-upload) request body, bytes. */
    body_limit: number;
    /** Largest JSON body of a route that needs no token (room creation, entering, refresh), bytes. */
    public_body_limit: number;
    /** Time a client has to send its request line and headers, seconds. */
    headers_timeout_seconds: number;
    /** A request body must finish, or deliver `body_min_bytes`, within every window of this many seconds. */
    body_timeout_seconds: number;
    body_min_bytes: number;
    /** Open connections one peer address may hold (trusted proxies are exempt). */
    max_connections_per_client: number;
    /** Directory of the built web app (static export); empty = the one built in this repo. */
    web_root: string;
    /** Public origin used in links (share URLs); empty = derived from the request. */
    public_url: string;
  };
  logging: {
    level: LogLevel;
    /** `auto` = pretty on a TTY, JSON otherwise. */
    format: 'auto' | 'json' | 'pretty';
  };
  database: {
    url: string;
    max_connections: number;
    min_connections: number;
    journal_mode: JournalMode;
    /** SQLite busy timeout, milliseconds. */
    busy_timeout_ms: number;
  };
  storage: {
    backend: StorageBackend;
    /** Local storage root (files and tus partial uploads live below it). */
    root: string;
    local: {
      /**
       * Internal location prefix of a reverse proxy (nginx `X-Accel-Redirect`) that serves the
       * storage root; empty = the server streams downloads itself.
       */
      accel_redirect: string;
    };
    /** All rooms' bytes together (stored and reserved); new bytes beyond it get 507. 0 = no cap. */
    max_total_size: number;
    s3: {
      endpoint: string;
      region: string;
      bucket: string;
      access_key_id: string;
      secret_access_key: string;
      force_path_style: boolean;
      prefix: string;
      /**
       * > 0: downloads answer 302 to a presigned S3 URL valid this long (the bytes never pass
       * through the server); 0: the server streams them.
       */
      presign_downloads_seconds: number;
    };
  };
  jwt: {
    /** Empty = generate once and store in `<data_dir>/jwt-secret` (mode 0600). */
    secret: string;
    ttl_seconds: number;
    leeway_seconds: number;
    refresh_ttl_seconds: number;
    cleanup_interval_seconds: number;
    enable_refresh_token_rotation: boolean;
  };
  room: {
    defaults: {
      password: string | null;
      max_times_entered: number;
      max_size: number;
      permissions: { read: boolean; edit: boolean; share: boolean; delete: boolean };
    };
    /** Deployment caps: creation and settings may not exceed them. */
    limits: {
      max_size: number;
      max_times_entered: number;
    };
    expiry: {
      allowed_ages: number[];
      default_age: number;
    };
    share_disabled_lock_duration: number;
    /**
     * Seconds a share link's download slot stays held without a renewal: a transfer under way
     * renews it; the slot of a transfer whose server died comes back after this long.
     */
    share_link_download_lease_seconds: number;
    max_message_bytes: number;
    /** Rooms one client address may create per window (POST and the zero-step GET); 0 = no limit. */
    creation_limit: { max: number; window_seconds: number };
  };
  auth: {
    /**
     * Password attempts allowed per client (`max`) and per room (`room_max`) within the
     * window; a client that fills its allowance is locked out with an exponential back-off.
     */
    password_attempts: { max: number; room_max: number; window_seconds: number; backoff_max_seconds: number };
    /** Argon2 hashes and verifications running at once, and waiting; more are refused (503). */
    password_hashing: { concurrency: number; queue: number };
  };
  upload: {
    reservation_ttl_seconds: number;
    /** Largest single file accepted by any upload route, bytes. */
    max_file_size: number;
    /** Largest multipart request body (simple and one-shot uploads), bytes. */
    max_request_size: number;
    /** Chunk size the web client uses for tus PATCH requests, bytes. */
    chunk_size: number;
  };
  gc: {
    interval_seconds: number;
    batch_limit: number;
    /** How often a pass also sweeps the storage for bytes no row names; 0 = every pass. */
    orphan_sweep_interval_seconds: number;
  };
  realtime: {
    /** Empty = in-process event bus; `redis://…` = Redis pub/sub across instances. */
    redis_url: string;
    max_connections: number;
    max_connections_per_room: number;
    /** Sockets one client address may hold (across all rooms). */
    max_connections_per_client: number;
    ping_interval_seconds: number;
    connect_timeout_seconds: number;
  };
  middleware: {
    tracing: { enabled: boolean; level: LogLevel; include_headers: boolean; include_body: boolean };
    request_id: { enabled: boolean; header_name: string; generate_if_missing: boolean };
    compression: { enabled: boolean; min_content_length: number };
    cors: {
      enabled: boolean;
      allowed_origins: string[];
      allowed_methods: string[];
      allowed_headers: string[];
      allow_credentials: boolean;
      max_age: number;
      expose_headers: string[];
    };
    security: {
      enabled: boolean;
      content_type_options: boolean;
      frame_options: string;
      xss_protection: string;
      strict_transport_security: string;
      referrer_policy: string;
      content_security_policy: string;
    };
    rate_limit: {
      enabled: boolean;
      /** Requests allowed per client per `window_seconds` after the burst is used. */
      per_second: number;
      burst_size: number;
      cleanup_interval_seconds: number;
      /** Empty = per-process memory; else shared through Redis (falls back to realtime.redis_url). */
      redis_url: string;
    };
    /** Proxies whose X-Forwarded-For is believed: `false`, `true`, a hop count, or CIDR/IP list. */
    trusted_proxies: string[];
  };
  admin: { token: string };
  metrics: { enabled: boolean; token: string };
}
