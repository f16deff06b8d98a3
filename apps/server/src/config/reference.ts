/**
 * The configuration reference (docs/CONFIGURATION.md) rendered from the schema, the defaults
 * and the env alias table, so the document cannot drift from the code: a test compares them.
 */
import { defaultConfig } from './defaults.js';
import { ENV_ALIASES } from './env.js';
import { CONFIG_LEAVES, describeKind, getLeafValue, showValue } from './schema.js';

/** One line per key: what it controls. */
export const KEY_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'app.server.addr': 'Address to bind (`0.0.0.0` in containers).',
  'app.server.port': 'Port for the API, the WebSocket, the API docs and the web app.',
  'app.server.data_dir':
    'Directory for the default SQLite file, the generated JWT secret and the default storage root.',
  'app.server.body_limit': 'Largest JSON request body.',
  'app.server.public_body_limit':
    'Largest JSON body of a route that needs no token (creating a room, entering it, refreshing a token); larger → 413.',
  'app.server.headers_timeout_seconds':
    'Time a client has to send its request line and headers; the connection is closed after it.',
  'app.server.body_timeout_seconds':
    'Progress window for request bodies: within each, a body must finish or deliver `body_min_bytes`, else the connection is closed (no total limit: large uploads that keep flowing are never cut).',
  'app.server.body_min_bytes': 'Bytes a request body must deliver per `body_timeout_seconds` window.',
  'app.server.max_connections_per_client':
    'Open connections one peer address may hold; more are answered 429 and closed. Connections from `trusted_proxies` are exempt.',
  'app.server.web_root': 'Directory of the built web app; empty = the one built in this repository.',
  'app.server.public_url': 'Public origin used in share links; empty = taken from the request.',
  'app.logging.level': 'Log level.',
  'app.logging.format': '`auto` = pretty on a terminal, JSON lines otherwise.',
  'app.database.url':
    '`sqlite:///abs.db`, `sqlite://relative.db`, `sqlite::memory:` or `postgres://user:pass@host/db`; default `<data_dir>/elizabeth.db`.',
  'app.database.max_connections': 'PostgreSQL pool size (SQLite uses one connection).',
  'app.database.min_connections': 'PostgreSQL connections kept open.',
  'app.database.journal_mode':
    'SQLite journal mode (`delete` on bind mounts that do not support WAL, e.g. Docker Desktop on macOS).',
  'app.database.busy_timeout_ms': 'How long SQLite waits for a lock before failing.',
  'app.storage.backend': '`local` (files under `root`) or `s3` (any S3-compatible bucket).',
  'app.storage.root': 'Local storage directory; default `<data_dir>/storage`.',
  'app.storage.local.accel_redirect':
    'Off when empty. An nginx `internal` location (e.g. `/_elizabeth_files/`) that aliases the storage root: authorised downloads answer with `X-Accel-Redirect` and nginx sends the bytes (sendfile, ranges). Local backend only; docs/DEPLOYMENT.md.',
  'app.storage.max_total_size':
    "Cap on all rooms' bytes together (stored and reserved); an upload past it gets `507 INSUFFICIENT_STORAGE`. 0 = no cap.",
  'app.storage.s3.endpoint': 'S3 endpoint URL; empty = AWS.',
  'app.storage.s3.region': 'S3 region.',
  'app.storage.s3.bucket': 'S3 bucket (required with the s3 backend).',
  'app.storage.s3.access_key_id': 'S3 access key id.',
  'app.storage.s3.secret_access_key': 'S3 secret key.',
  'app.storage.s3.force_path_style': 'Path-style bucket URLs (MinIO and most self-hosted stores need it).',
  'app.storage.s3.prefix': 'Key prefix inside the bucket.',
  'app.storage.s3.presign_downloads_seconds':
    'Off when 0. Otherwise an authorised download answers `302` to a presigned S3 URL valid this long (keep it short, e.g. `60s`), with the file name and type as `response-content-disposition`/`-type`: the bytes go from S3 to the client, never through the server. S3 backend only.',
  'app.jwt.secret':
    'Signing secret, at least 32 characters; empty = generated once into `<data_dir>/jwt-secret` (mode 0600).',
  'app.jwt.ttl_seconds': 'Access-token lifetime (capped at the room expiry).',
  'app.jwt.leeway_seconds': 'Clock skew tolerated when checking token expiry.',
  'app.jwt.refresh_ttl_seconds': 'Refresh-token lifetime (capped at the room expiry).',
  'app.jwt.cleanup_interval_seconds': 'How often expired refresh tokens and blacklist rows are deleted.',
  'app.jwt.enable_refresh_token_rotation':
    'Every refresh returns a new refresh token and retires the old one.',
  'app.room.defaults.password': 'Password given to new rooms that do not choose one; empty = none.',
  'app.room.defaults.max_times_entered': 'Entry limit of new rooms.',
  'app.room.defaults.max_size': 'Storage quota of new rooms.',
  'app.room.defaults.permissions.read': 'New rooms can be viewed (bit 1).',
  'app.room.defaults.permissions.edit': 'New rooms accept posts and uploads (bit 2).',
  'app.room.defaults.permissions.share': 'New rooms have a public address (bit 4).',
  'app.room.defaults.permissions.delete':
    'Sessions of new rooms may delete contents and manage the room (bit 8).',
  'app.room.limits.max_size': 'Largest quota a room may be given.',
  'app.room.limits.max_times_entered': 'Largest entry limit a room may be given.',
  'app.room.expiry.allowed_ages': 'Expiry ages a room may choose.',
  'app.room.expiry.default_age': 'Expiry age of new rooms; one of `allowed_ages`.',
  'app.room.share_disabled_lock_duration': 'How long the name of a room that went private stays reserved.',
  'app.room.share_link_download_lease_seconds':
    "How long a share link's download slot stays held without a renewal. A transfer under way renews it every third of this; the slot of a transfer whose server died (kill -9, crash) is free again after this long.",
  'app.room.max_message_bytes': 'Largest chat message (UTF-8 bytes).',
  'app.room.creation_limit.max':
    'Rooms one client address may create per window (POST and the first GET of a new name); more → 429. 0 = no limit.',
  'app.room.creation_limit.window_seconds': 'The window of `room.creation_limit.max`.',
  'app.auth.password_attempts.max':
    'Password attempts (checked before verification, refunded when right) allowed per client per window; filling it locks the client out with an exponential back-off.',
  'app.auth.password_attempts.room_max':
    'Password attempts allowed per room per window, from all clients together (no back-off).',
  'app.auth.password_attempts.window_seconds':
    'Window of the password-attempt limit, and the first lock-out of a client.',
  'app.auth.password_attempts.backoff_max_seconds':
    'Longest lock-out of a client (each one in a row doubles, from the window); lock-outs are forgotten after this long without a new one.',
  'app.auth.password_hashing.concurrency':
    'Argon2 password hashes and verifications running at once (each holds a libuv pool thread and 19 MiB).',
  'app.auth.password_hashing.queue':
    'Hashes and verifications waiting for a turn; past that a request is refused with 503 and Retry-After.',
  'app.upload.reservation_ttl_seconds':
    'How long an unfinished upload keeps its reserved quota and partial bytes.',
  'app.upload.max_file_size': 'Largest single file.',
  'app.upload.max_request_size': 'Largest multipart upload request.',
  'app.upload.chunk_size': 'Chunk size the web app uses for resumable uploads.',
  'app.gc.interval_seconds': 'Period of the lifecycle pass (expired rooms, reservations, sessions).',
  'app.gc.batch_limit': 'Rooms handled per lifecycle pass at most.',
  'app.gc.orphan_sweep_interval_seconds':
    'How often a lifecycle pass also lists the storage and removes bytes no row names (left by a crash); 0 = every pass. The first pass after a start always sweeps.',
  'app.realtime.redis_url':
    'Empty = one instance, all state in process. `redis://…` = shared by several instances: events (pub/sub), online counts, rate limits (unless `rate_limit.redis_url` is set), wrong-password counts and tus upload locks; see docs/SCALING.md.',
  'app.realtime.max_connections': 'WebSocket connections per server.',
  'app.realtime.max_connections_per_room': 'WebSocket connections per room.',
  'app.realtime.max_connections_per_client':
    'WebSocket connections one client address may hold across all rooms; more are closed with 4429.',
  'app.realtime.ping_interval_seconds': 'Protocol ping period; sockets that miss two are dropped.',
  'app.realtime.connect_timeout_seconds': 'Time a new socket has to send its `connect` frame.',
  'app.middleware.tracing.enabled':
    'Log one line per request, written with its response (method, URL, status, time).',
  'app.middleware.tracing.level': 'Level of those lines.',
  'app.middleware.tracing.include_headers': 'Reserved: request headers are never logged (they carry tokens).',
  'app.middleware.tracing.include_body': 'Reserved: request bodies are never logged (they carry passwords).',
  'app.middleware.request_id.enabled': 'Echo or generate a request id on every response.',
  'app.middleware.request_id.header_name': 'Header carrying the request id.',
  'app.middleware.request_id.generate_if_missing': 'Generate an id when the request has none.',
  'app.middleware.compression.enabled': 'Compress responses (brotli or gzip).',
  'app.middleware.compression.min_content_length': 'Smallest body that is compressed.',
  'app.middleware.cors.enabled':
    'Answer cross-origin requests (only needed when the web app is served from another origin).',
  'app.middleware.cors.allowed_origins': 'Origins allowed; `*` = any.',
  'app.middleware.cors.allowed_methods': 'Methods allowed.',
  'app.middleware.cors.allowed_headers': 'Request headers allowed; `*` = whatever the browser asks for.',
  'app.middleware.cors.allow_credentials': 'Allow cookies/credentials (not with origin `*`).',
  'app.middleware.cors.max_age': 'How long browsers cache a preflight answer.',
  'app.middleware.cors.expose_headers':
    'Extra response headers readable by scripts (tus and request-id headers are always exposed).',
  'app.middleware.security.enabled': 'Send the security headers below.',
  'app.middleware.security.content_type_options': 'Send `X-Content-Type-Options: nosniff`.',
  'app.middleware.security.frame_options': '`X-Frame-Options`; empty = not sent.',
  'app.middleware.security.xss_protection':
    '`X-XSS-Protection`; `0` disables the legacy filter, as current browsers advise.',
  'app.middleware.security.strict_transport_security': '`Strict-Transport-Security`; empty = not sent.',
  'app.middleware.security.referrer_policy': '`Referrer-Policy`; empty = not sent.',
  'app.middleware.security.content_security_policy':
    'CSP of the web pages; hashes of their inline scripts are added to `script-src`.',
  'app.middleware.rate_limit.enabled': 'Limit API requests per client address.',
  'app.middleware.rate_limit.per_second': 'Requests per second per client, on average.',
  'app.middleware.rate_limit.burst_size': 'Requests a client may send at once.',
  'app.middleware.rate_limit.cleanup_interval_seconds': 'How often idle client counters are dropped.',
  'app.middleware.rate_limit.redis_url':
    'Share the limit across instances through Redis; empty = `realtime.redis_url` or per process.',
  'app.middleware.trusted_proxies':
    'Proxies whose `X-Forwarded-For` is believed: empty = none, `true`, a hop count, or addresses/CIDRs.',
  'app.admin.token': 'Enables `/api/v1/admin/*` with `Authorization: Bearer <token>`; empty = admin API off.',
  'app.metrics.enabled': 'Serve Prometheus metrics at `/metrics`.',
  'app.metrics.token': 'Bearer token required by `/metrics`; empty = open.',
};

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The Markdown table of every key: default, type, short environment name, description. */
export function renderConfigReference(): string {
  const defaults = defaultConfig();
  const aliases = new Map<string, string[]>();
  for (const { name, key } of ENV_ALIASES) aliases.set(key, [...(aliases.get(key) ?? []), name]);
  const rows = CONFIG_LEAVES.map((leaf) => {
    const value = getLeafValue(defaults, leaf.path);
    const shown =
      leaf.key === 'app.database.url'
        ? '`sqlite://<data_dir>/elizabeth.db`'
        : leaf.key === 'app.storage.root'
          ? '`<data_dir>/storage`'
          : `\`${showValue(leaf.key, value)}\``;
    const env = (aliases.get(leaf.key) ?? []).map((n) => `\`${n}\``).join(', ') || '—';
    const meaning = `${KEY_DESCRIPTIONS[leaf.key] ?? ''} Type: ${describeKind(leaf.spec)}.`;
    return `| \`${leaf.key}\` | ${cell(shown)} | ${env} | ${cell(meaning)} |`;
  });
  return ['| Key | Default | Short env name | Meaning and type |', '|---|---|---|---|', ...rows].join('\n');
}
