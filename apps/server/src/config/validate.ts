import { isIP } from 'node:net';
import path from 'node:path';

import type { ConfigIssue } from './errors.js';
import { formatDuration, formatSize } from './parse.js';
import { redactUrl } from './sensitive.js';
import { type ConfigSource, describeSource } from './source.js';
import type { AppConfig } from './types.js';

/** Secrets shipped in templates and examples; a server using one would accept forged tokens. */
export const PLACEHOLDER_JWT_SECRETS: readonly string[] = [
  'please-change-this-secret-in-production-min-32-chars-long-for-security',
  'please-change-this-secret-in-production-min-32-chars',
  'default-secret-change-in-productiondefault-secret-change-in-production',
  'change-me-to-a-random-secret-of-at-least-32-characters',
];

export const JWT_SECRET_MIN_LENGTH = 32;

const HOW_TO_MAKE_A_SECRET = 'generate one with `openssl rand -hex 32`';

/** Why `secret` cannot sign tokens, or `undefined` when it can. Never echoes the secret. */
export function checkJwtSecret(secret: string): string | undefined {
  if (PLACEHOLDER_JWT_SECRETS.includes(secret.trim().toLowerCase())) {
    return `is a placeholder from an example configuration; ${HOW_TO_MAKE_A_SECRET}`;
  }
  const length = [...secret].length;
  if (length < JWT_SECRET_MIN_LENGTH) {
    return `must be at least ${JWT_SECRET_MIN_LENGTH} characters, got ${length}; ${HOW_TO_MAKE_A_SECRET}`;
  }
  return undefined;
}

const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isCidrOrIp(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d+$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function isRedisUrl(value: string): boolean {
  if (!/^rediss?:\/\//i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rules that involve more than one key or more than the type of one value. Single-value
 * ranges (port 1–65535, sizes ≥ 1, …) are checked while parsing, in `schema.ts`.
 */
export function validateConfig(config: AppConfig, sources: Record<string, ConfigSource>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const sourceOf = (key: string): ConfigSource => sources[key] ?? { kind: 'default' };
  const issue = (key: string, message: string) => issues.push({ key, source: sourceOf(key), message });
  const ref = (key: string) => `${key} (${describeSource(sourceOf(key))})`;

  const { server, database, storage, jwt, room, upload, realtime, middleware } = config;

  if (server.addr.trim() === '' || /\s/.test(server.addr)) {
    issue(
      'app.server.addr',
      `must be an address to listen on such as 127.0.0.1, 0.0.0.0 or ::, got "${server.addr}"`,
    );
  }
  if (server.public_url !== '') {
    if (!isHttpUrl(server.public_url) || /[?#]/.test(server.public_url)) {
      issue(
        'app.server.public_url',
        `must be an http(s) URL without query or fragment, e.g. https://share.example.com, got "${server.public_url}"`,
      );
    }
  }
  if (server.body_limit <= room.max_message_bytes) {
    issue(
      'app.server.body_limit',
      `must be larger than ${ref('app.room.max_message_bytes')} = ${formatSize(room.max_message_bytes)} so that a ` +
        `message of the largest allowed size fits in a request, got ${formatSize(server.body_limit)}`,
    );
  }

  if (database.min_connections > database.max_connections) {
    issue(
      'app.database.min_connections',
      `must not exceed ${ref('app.database.max_connections')} = ${database.max_connections}, got ${database.min_connections}`,
    );
  }

  const accel = storage.local.accel_redirect;
  if (accel !== '' && !/^\/[A-Za-z0-9._~\-/]*\/$/.test(accel)) {
    issue(
      'app.storage.local.accel_redirect',
      `must be a path that starts and ends with "/", e.g. /_elizabeth_files/, got "${accel}"`,
    );
  }
  if (storage.backend === 's3') {
    if (storage.s3.bucket.trim() === '')
      issue('app.storage.s3.bucket', 'is required when app.storage.backend is s3');
    if (storage.s3.region.trim() === '')
      issue('app.storage.s3.region', 'is required when app.storage.backend is s3');
  }
  if (storage.s3.endpoint !== '' && !isHttpUrl(storage.s3.endpoint)) {
    issue('app.storage.s3.endpoint', `must be an http(s) URL or empty (AWS), got "${storage.s3.endpoint}"`);
  }

  if (jwt.secret !== '') {
    const problem = checkJwtSecret(jwt.secret);
    const stored = path.join(server.data_dir, 'jwt-secret');
    if (problem)
      issue('app.jwt.secret', `${problem}, or leave it unset to have one generated and kept in ${stored}`);
  }
  if (jwt.leeway_seconds >= jwt.ttl_seconds) {
    issue(
      'app.jwt.leeway_seconds',
      `must be smaller than ${ref('app.jwt.ttl_seconds')} = ${jwt.ttl_seconds}, got ${jwt.leeway_seconds}`,
    );
  }

  const { password, max_size, max_times_entered } = room.defaults;
  if (password !== null) {
    const length = [...password].length;
    if (length < 4 || length > 100)
      issue('app.room.defaults.password', `must be 4 to 100 characters, got ${length}`);
  }
  if (max_size > room.limits.max_size) {
    issue(
      'app.room.defaults.max_size',
      `must not exceed ${ref('app.room.limits.max_size')} = ${formatSize(room.limits.max_size)}, got ${formatSize(max_size)}`,
    );
  }
  if (max_times_entered > room.limits.max_times_entered) {
    issue(
      'app.room.defaults.max_times_entered',
      `must not exceed ${ref('app.room.limits.max_times_entered')} = ${room.limits.max_times_entered}, got ${max_times_entered}`,
    );
  }

  const ages = room.expiry.allowed_ages;
  if (ages.length === 0) {
    issue('app.room.expiry.allowed_ages', 'at least one room expiry age is required');
  } else if (ages.some((age) => age <= 0)) {
    issue('app.room.expiry.allowed_ages', 'room expiry ages must be positive');
  } else if (ages.some((age, i) => i > 0 && age <= ages[i - 1]!)) {
    issue(
      'app.room.expiry.allowed_ages',
      `room expiry ages must be unique and strictly increasing, got [${ages.map(formatDuration).join(', ')}]`,
    );
  } else if (!ages.includes(room.expiry.default_age)) {
    issue(
      'app.room.expiry.default_age',
      `must be one of ${ref('app.room.expiry.allowed_ages')} = [${ages.map(formatDuration).join(', ')}], ` +
        `got ${formatDuration(room.expiry.default_age)}`,
    );
  }

  if (upload.chunk_size > upload.max_file_size) {
    issue(
      'app.upload.chunk_size',
      `must not exceed ${ref('app.upload.max_file_size')} = ${formatSize(upload.max_file_size)}, got ${formatSize(upload.chunk_size)}`,
    );
  }

  if (realtime.max_connections_per_room > realtime.max_connections) {
    issue(
      'app.realtime.max_connections_per_room',
      `must not exceed ${ref('app.realtime.max_connections')} = ${realtime.max_connections}, got ${realtime.max_connections_per_room}`,
    );
  }
  for (const key of ['app.realtime.redis_url', 'app.middleware.rate_limit.redis_url'] as const) {
    const value = key === 'app.realtime.redis_url' ? realtime.redis_url : middleware.rate_limit.redis_url;
    if (value !== '' && !isRedisUrl(value)) {
      issue(key, `must be a redis:// or rediss:// URL, or empty, got "${redactUrl(value)}"`);
    }
  }

  if (!HEADER_TOKEN.test(middleware.request_id.header_name)) {
    issue(
      'app.middleware.request_id.header_name',
      `must be a valid HTTP header name, got "${middleware.request_id.header_name}"`,
    );
  }
  for (const [name, value] of Object.entries(middleware.security)) {
    if (typeof value === 'string' && hasControlCharacter(value)) {
      issue(
        `app.middleware.security.${name}`,
        'must be a single line without control characters (it is sent as a header)',
      );
    }
  }

  const cors = middleware.cors;
  if (cors.enabled && cors.allow_credentials && cors.allowed_origins.includes('*')) {
    issue(
      'app.middleware.cors.allow_credentials',
      `cannot be true while ${ref('app.middleware.cors.allowed_origins')} contains "*": browsers reject ` +
        'credentialed responses to any origin; list the allowed origins instead',
    );
  }
  const badMethods = cors.allowed_methods.filter((m) => m !== '*' && !HEADER_TOKEN.test(m));
  if (badMethods.length > 0) {
    issue(
      'app.middleware.cors.allowed_methods',
      `contains invalid HTTP methods: ${JSON.stringify(badMethods)}`,
    );
  }

  const proxies = middleware.trusted_proxies;
  const single = proxies.length === 1 ? proxies[0]!.trim().toLowerCase() : undefined;
  const isSwitchOrHops =
    single !== undefined && (single === 'true' || single === 'false' || /^\d+$/.test(single));
  if (!isSwitchOrHops) {
    const bad = proxies.filter((p) => !PROXY_NAMES.has(p.toLowerCase()) && !isCidrOrIp(p));
    if (bad.length > 0) {
      issue(
        'app.middleware.trusted_proxies',
        'must be true, false, a hop count, or a list of IP addresses, CIDR ranges and ' +
          `loopback/linklocal/uniquelocal, got ${JSON.stringify(bad)}`,
      );
    }
  }

  return issues;
}
