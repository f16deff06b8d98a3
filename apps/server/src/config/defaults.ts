import path from 'node:path';

import type { AppConfig } from './types.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_DATA_DIR = 'data';

/** The SQLite file used when no layer sets `app.database.url`; it follows `app.server.data_dir`. */
export function defaultDatabaseUrl(dataDir: string): string {
  return `sqlite://${path.join(dataDir, 'elizabeth.db')}`;
}

/** The local storage root used when no layer sets `app.storage.root`; it follows the data dir. */
export function defaultStorageRoot(dataDir: string): string {
  return path.join(dataDir, 'storage');
}

/**
 * Built-in defaults. `database.url` and `storage.root` are shown relative to the default data
 * dir; `loadConfig` re-derives both from the effective (absolute) data dir when no layer sets them.
 */
export function defaultConfig(): AppConfig {
  return {
    server: {
      addr: '127.0.0.1',
      port: 4092,
      data_dir: DEFAULT_DATA_DIR,
      body_limit: MiB,
      public_body_limit: 16 * KiB,
      headers_timeout_seconds: 30,
      body_timeout_seconds: 30,
      body_min_bytes: 16 * KiB,
      max_connections_per_client: 128,
      web_root: '',
      public_url: '',
    },
    logging: { level: 'info', format: 'auto' },
    database: {
      url: defaultDatabaseUrl(DEFAULT_DATA_DIR),
      // SQLite opens one connection regardless; these size the PostgreSQL pool.
      max_connections: 20,
      min_connections: 5,
      journal_mode: 'wal',
      busy_timeout_ms: 30_000,
    },
    storage: {
      backend: 'local',
      root: defaultStorageRoot(DEFAULT_DATA_DIR),
      local: { accel_redirect: '' },
      max_total_size: 0,
      s3: {
        endpoint: '',
        region: 'us-east-1',
        bucket: '',
        access_key_id: '',
        secret_access_key: '',
        force_path_style: true,
        prefix: '',
        presign_downloads_seconds: 0,
      },
    },
    jwt: {
      secret: '',
      ttl_seconds: 2 * HOUR,
      leeway_seconds: 5,
      refresh_ttl_seconds: 7 * DAY,
      cleanup_interval_seconds: DAY,
      enable_refresh_token_rotation: true,
    },
    room: {
      defaults: {
        password: null,
        max_times_entered: 100,
        max_size: 50 * MiB,
        permissions: { read: true, edit: true, share: true, delete: true },
      },
      limits: { max_size: 10 * GiB, max_times_entered: 1_000_000 },
      expiry: {
        allowed_ages: [MINUTE, 30 * MINUTE, 2 * HOUR, 12 * HOUR, DAY, 7 * DAY, 30 * DAY, 365 * DAY],
        default_age: 2 * HOUR,
      },
      share_disabled_lock_duration: HOUR,
      share_link_download_lease_seconds: MINUTE,
      max_message_bytes: 256 * KiB,
      creation_limit: { max: 60, window_seconds: HOUR },
    },
    auth: {
      password_attempts: { max: 10, room_max: 100, window_seconds: 60, backoff_max_seconds: HOUR },
      password_hashing: { concurrency: 2, queue: 32 },
    },
    upload: {
      reservation_ttl_seconds: HOUR,
      max_file_size: 10 * GiB,
      max_request_size: 10 * GiB,
      chunk_size: 8 * MiB,
    },
    gc: { interval_seconds: 60, batch_limit: 200, orphan_sweep_interval_seconds: HOUR },
    realtime: {
      redis_url: '',
      max_connections: 10_000,
      max_connections_per_room: 500,
      max_connections_per_client: 100,
      ping_interval_seconds: 30,
      connect_timeout_seconds: 10,
    },
    middleware: {
      tracing: { enabled: true, level: 'info', include_headers: false, include_body: false },
      request_id: { enabled: true, header_name: 'X-Request-Id', generate_if_missing: true },
      compression: { enabled: true, min_content_length: 1024 },
      cors: {
        enabled: false,
        allowed_origins: ['*'],
        allowed_methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'],
        allowed_headers: ['*'],
        allow_credentials: false,
        max_age: 3600,
        expose_headers: [],
      },
      security: {
        enabled: true,
        content_type_options: true,
        frame_options: 'DENY',
        // `1; mode=block` switched on the legacy XSS auditor, which browsers removed because it
        // could itself be abused to leak data; current guidance (OWASP, MDN) is to send `0`.
        xss_protection: '0',
        strict_transport_security: 'max-age=31536000; includeSubDomains',
        referrer_policy: 'strict-origin-when-cross-origin',
        content_security_policy:
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
          "media-src 'self' blob:; connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; " +
          "frame-src 'self' blob:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
      },
      rate_limit: {
        enabled: true,
        per_second: 50,
        burst_size: 200,
        cleanup_interval_seconds: 60,
        redis_url: '',
      },
      // Empty: forwarded headers are ignored unless the operator names the proxies.
      trusted_proxies: [],
    },
    admin: { token: '' },
    metrics: { enabled: true, token: '' },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A frozen copy of the defaults for reading; use `defaultConfig()` for one to modify. */
export const DEFAULT_CONFIG: Readonly<AppConfig> = deepFreeze(defaultConfig());
