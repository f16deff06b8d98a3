import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import { describeSource } from './source.js';
import { PLACEHOLDER_JWT_SECRETS, checkJwtSecret } from './validate.js';

const cleanups: string[] = [];
afterEach(() => {
  for (const dir of cleanups.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function dirs() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'elizabeth-validate-'));
  cleanups.push(root);
  return { home: path.join(root, 'home'), cwd: root };
}

function load(env: Record<string, string>, yaml?: string) {
  const { home, cwd } = dirs();
  if (yaml !== undefined) {
    fs.writeFileSync(path.join(cwd, 'c.yaml'), yaml);
    env = { CONFIG_FILE: 'c.yaml', ...env };
  }
  return { result: () => loadConfig({ env, homeDir: home, cwd }), file: path.join(cwd, 'c.yaml') };
}

function fail(env: Record<string, string>, yaml?: string): { error: ConfigError; file: string } {
  const { result, file } = load(env, yaml);
  try {
    result();
  } catch (error) {
    if (error instanceof ConfigError) return { error, file };
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function errorOf(env: Record<string, string>, yaml?: string): ConfigError {
  return fail(env, yaml).error;
}

/** Asserts one issue for `key` from `source`, whose line in the message matches `message`. */
function expectIssue(error: ConfigError, key: string, source: string, message: RegExp): void {
  const issue = error.issues.find((i) => i.key === key);
  expect(issue, `no issue for ${key} in:\n${error.message}`).toBeDefined();
  expect(describeSource(issue!.source)).toBe(source);
  expect(issue!.message).toMatch(message);
  const line = error.message.split('\n').find((l) => l.startsWith(`${key} (${source}): `));
  expect(line, error.message).toBeDefined();
}

describe('single-value rules', () => {
  it.each([
    [{ PORT: 'abc' }, 'app.server.port', 'env PORT', /^must be an integer between 1 and 65535, got "abc"$/],
    [{ PORT: '0' }, 'app.server.port', 'env PORT', /between 1 and 65535, got "0"/],
    [{ PORT: '65536' }, 'app.server.port', 'env PORT', /between 1 and 65535/],
    [{ LOG_LEVEL: 'verbose' }, 'app.logging.level', 'env LOG_LEVEL', /one of trace, debug, info, warn/],
    [{ LOG_FORMAT: 'xml' }, 'app.logging.format', 'env LOG_FORMAT', /one of auto, json, pretty/],
    [{ DB_JOURNAL_MODE: 'fast' }, 'app.database.journal_mode', 'env DB_JOURNAL_MODE', /one of wal, delete/],
    [{ DB_MAX_CONNECTIONS: '0' }, 'app.database.max_connections', 'env DB_MAX_CONNECTIONS', /at least 1/],
    [{ DB_MIN_CONNECTIONS: '0' }, 'app.database.min_connections', 'env DB_MIN_CONNECTIONS', /at least 1/],
    [{ STORAGE_BACKEND: 'ftp' }, 'app.storage.backend', 'env STORAGE_BACKEND', /one of local, s3/],
    [{ ROOM_MAX_SIZE: '0' }, 'app.room.defaults.max_size', 'env ROOM_MAX_SIZE', /at least 1 byte/],
    [
      { ROOM_MAX_TIMES_ENTERED: '0' },
      'app.room.defaults.max_times_entered',
      'env ROOM_MAX_TIMES_ENTERED',
      /at least 1/,
    ],
    [
      { ROOM_SHARE_DISABLED_LOCK_DURATION: '0' },
      'app.room.share_disabled_lock_duration',
      'env ROOM_SHARE_DISABLED_LOCK_DURATION',
      /at least 1s/,
    ],
    [{ GC_INTERVAL_SECONDS: '0' }, 'app.gc.interval_seconds', 'env GC_INTERVAL_SECONDS', /at least 1s/],
    [{ GC_BATCH_LIMIT: '0' }, 'app.gc.batch_limit', 'env GC_BATCH_LIMIT', /between 1 and 10000/],
    [{ GC_BATCH_LIMIT: '10001' }, 'app.gc.batch_limit', 'env GC_BATCH_LIMIT', /between 1 and 10000/],
    [
      { MIDDLEWARE_RATE_LIMIT_PER_SECOND: '0' },
      'app.middleware.rate_limit.per_second',
      'env MIDDLEWARE_RATE_LIMIT_PER_SECOND',
      /at least 1/,
    ],
    [
      { MIDDLEWARE_RATE_LIMIT_BURST_SIZE: '0' },
      'app.middleware.rate_limit.burst_size',
      'env MIDDLEWARE_RATE_LIMIT_BURST_SIZE',
      /at least 1/,
    ],
    [{ JWT_TTL_SECONDS: '-5' }, 'app.jwt.ttl_seconds', 'env JWT_TTL_SECONDS', /negative/],
    [
      { UPLOAD_CHUNK_SIZE: '1.5B' },
      'app.upload.chunk_size',
      'env UPLOAD_CHUNK_SIZE',
      /whole number of bytes/,
    ],
  ])('%j is refused', (env, key, source, message) => {
    expectIssue(errorOf(env), key, source, message);
  });

  it('accepts enum values case-insensitively and `warning` for warn', () => {
    const { config } = load({ LOG_LEVEL: 'WARNING', DB_JOURNAL_MODE: 'Delete' }).result();
    expect(config.logging.level).toBe('warn');
    expect(config.database.journal_mode).toBe('delete');
  });
});

describe('cross-key rules', () => {
  it('min_connections must not exceed max_connections', () => {
    expectIssue(
      errorOf({ DB_MIN_CONNECTIONS: '30' }),
      'app.database.min_connections',
      'env DB_MIN_CONNECTIONS',
      /must not exceed app\.database\.max_connections \(default\) = 20, got 30/,
    );
    expect(load({ DB_MIN_CONNECTIONS: '20' }).result().config.database.min_connections).toBe(20);
  });

  it('the s3 backend requires a bucket', () => {
    expectIssue(
      errorOf({ STORAGE_BACKEND: 's3' }),
      'app.storage.s3.bucket',
      'default',
      /required when app.storage.backend is s3/,
    );
    expect(load({ STORAGE_BACKEND: 's3', S3_BUCKET: 'files' }).result().config.storage.backend).toBe('s3');
  });

  it('the s3 endpoint must be an http(s) URL', () => {
    expectIssue(
      errorOf({ S3_ENDPOINT: 'minio:9000' }),
      'app.storage.s3.endpoint',
      'env S3_ENDPOINT',
      /http\(s\) URL/,
    );
  });

  it('expiry ages must not be empty', () => {
    const { error, file } = fail({}, 'app:\n  room:\n    expiry:\n      allowed_ages: []\n');
    expectIssue(
      error,
      'app.room.expiry.allowed_ages',
      `file ${file}`,
      /at least one room expiry age is required/,
    );
  });

  it('expiry ages must be positive', () => {
    expectIssue(
      errorOf({ ROOM_ALLOWED_AGES: '0,2h' }),
      'app.room.expiry.allowed_ages',
      'env ROOM_ALLOWED_AGES',
      /must be positive/,
    );
  });

  it.each(['2h,1h', '1h,2h,2h'])('expiry ages %j must be strictly increasing', (ages) => {
    expectIssue(
      errorOf({ ROOM_ALLOWED_AGES: ages }),
      'app.room.expiry.allowed_ages',
      'env ROOM_ALLOWED_AGES',
      /unique and strictly increasing/,
    );
  });

  it('the default age must be one of the allowed ages', () => {
    expectIssue(
      errorOf({ ROOM_DEFAULT_AGE: '3h' }),
      'app.room.expiry.default_age',
      'env ROOM_DEFAULT_AGE',
      /must be one of app.room.expiry.allowed_ages \(default\) = \[1m, 30m, 2h.*got 3h/,
    );
    expect(
      load({ ROOM_DEFAULT_AGE: '3h', ROOM_ALLOWED_AGES: '1h,3h' }).result().config.room.expiry.default_age,
    ).toBe(10_800);
  });

  it('room defaults must not exceed the room limits', () => {
    const error = errorOf({ ROOM_MAX_SIZE: '20GiB', ROOM_MAX_TIMES_ENTERED: '2000000' });
    expectIssue(
      error,
      'app.room.defaults.max_size',
      'env ROOM_MAX_SIZE',
      /must not exceed app.room.limits.max_size/,
    );
    expectIssue(
      error,
      'app.room.defaults.max_times_entered',
      'env ROOM_MAX_TIMES_ENTERED',
      /must not exceed app.room.limits.max_times_entered/,
    );
    const lowered = errorOf({ ROOM_LIMIT_MAX_SIZE: '1MiB' });
    expectIssue(
      lowered,
      'app.room.defaults.max_size',
      'default',
      /app.room.limits.max_size \(env ROOM_LIMIT_MAX_SIZE\)/,
    );
  });

  it.each(['abc', 'x'.repeat(101)])(
    'a default room password of %j is refused without echoing it',
    (password) => {
      const error = errorOf({ ROOM_DEFAULT_PASSWORD: password });
      expectIssue(error, 'app.room.defaults.password', 'env ROOM_DEFAULT_PASSWORD', /4 to 100 characters/);
      expect(error.message).not.toContain(password);
    },
  );

  it('a default room password of 4 to 100 characters is kept', () => {
    expect(load({ ROOM_DEFAULT_PASSWORD: 'abcd' }).result().config.room.defaults.password).toBe('abcd');
  });

  it('body_limit must exceed max_message_bytes', () => {
    expectIssue(
      errorOf({ BODY_LIMIT: '256KiB' }),
      'app.server.body_limit',
      'env BODY_LIMIT',
      /larger than app.room.max_message_bytes \(default\) = 256 KiB/,
    );
  });

  it('chunk_size must not exceed max_file_size', () => {
    expectIssue(
      errorOf({ UPLOAD_MAX_FILE_SIZE: '4MiB' }),
      'app.upload.chunk_size',
      'default',
      /must not exceed app.upload.max_file_size \(env UPLOAD_MAX_FILE_SIZE\) = 4 MiB, got 8 MiB/,
    );
  });

  it('CORS credentials cannot be combined with the wildcard origin', () => {
    const error = errorOf({ MIDDLEWARE_CORS_ENABLED: 'true', MIDDLEWARE_CORS_ALLOW_CREDENTIALS: 'true' });
    expectIssue(
      error,
      'app.middleware.cors.allow_credentials',
      'env MIDDLEWARE_CORS_ALLOW_CREDENTIALS',
      /contains "\*"/,
    );
    const ok = load({
      MIDDLEWARE_CORS_ENABLED: 'true',
      MIDDLEWARE_CORS_ALLOW_CREDENTIALS: 'true',
      MIDDLEWARE_CORS_ALLOWED_ORIGINS: 'https://app.example.com',
    }).result();
    expect(ok.config.middleware.cors.allow_credentials).toBe(true);
  });

  it('the JWT leeway must be smaller than the token TTL', () => {
    expectIssue(
      errorOf({ JWT_TTL_SECONDS: '60', JWT_LEEWAY_SECONDS: '60' }),
      'app.jwt.leeway_seconds',
      'env JWT_LEEWAY_SECONDS',
      /smaller than app.jwt.ttl_seconds \(env JWT_TTL_SECONDS\)/,
    );
  });

  it('per-room realtime connections must not exceed the server total', () => {
    expectIssue(
      errorOf({ REALTIME_MAX_CONNECTIONS: '100' }),
      'app.realtime.max_connections_per_room',
      'default',
      /must not exceed app.realtime.max_connections \(env REALTIME_MAX_CONNECTIONS\) = 100/,
    );
  });

  it('Redis URLs must use redis:// or rediss://, without echoing credentials', () => {
    const error = errorOf({
      REDIS_URL: 'http://:pw-secret@cache',
      MIDDLEWARE_RATE_LIMIT_REDIS_URL: 'cache:6379',
    });
    expectIssue(error, 'app.realtime.redis_url', 'env REDIS_URL', /redis:\/\/ or rediss:\/\//);
    expectIssue(
      error,
      'app.middleware.rate_limit.redis_url',
      'env MIDDLEWARE_RATE_LIMIT_REDIS_URL',
      /redis:\/\//,
    );
    expect(error.message).not.toContain('pw-secret');
  });

  it('the public URL must be an http(s) URL', () => {
    expectIssue(
      errorOf({ PUBLIC_URL: 'share.example.com' }),
      'app.server.public_url',
      'env PUBLIC_URL',
      /http\(s\)/,
    );
    expectIssue(
      errorOf({ PUBLIC_URL: 'https://x.example/?a=1' }),
      'app.server.public_url',
      'env PUBLIC_URL',
      /query/,
    );
  });

  it('header names and header values must be valid', () => {
    expectIssue(
      errorOf({ MIDDLEWARE_REQUEST_ID_HEADER_NAME: 'X Request Id' }),
      'app.middleware.request_id.header_name',
      'env MIDDLEWARE_REQUEST_ID_HEADER_NAME',
      /valid HTTP header name/,
    );
    const { error, file } = fail({}, 'app:\n  middleware:\n    security:\n      referrer_policy: "a\\nb"\n');
    expectIssue(error, 'app.middleware.security.referrer_policy', `file ${file}`, /single line/);
    expectIssue(
      errorOf({ MIDDLEWARE_CORS_ALLOWED_METHODS: 'GET, PO ST' }),
      'app.middleware.cors.allowed_methods',
      'env MIDDLEWARE_CORS_ALLOWED_METHODS',
      /"PO ST"/,
    );
  });

  it.each([
    ['true', ['true']],
    ['2', ['2']],
    ['10.0.0.0/8, ::1, 192.168.1.7, loopback', ['10.0.0.0/8', '::1', '192.168.1.7', 'loopback']],
  ])('trusted proxies %j are accepted', (value, expected) => {
    expect(load({ TRUSTED_PROXIES: value }).result().config.middleware.trusted_proxies).toEqual(expected);
  });

  it.each(['proxy.local', '10.0.0.0/33', '10.0.0.1, true'])('trusted proxies %j are refused', (value) => {
    expectIssue(
      errorOf({ TRUSTED_PROXIES: value }),
      'app.middleware.trusted_proxies',
      'env TRUSTED_PROXIES',
      /IP addresses, CIDR ranges/,
    );
  });

  it('data_dir must not be empty', () => {
    const { error, file } = fail({}, 'app:\n  server:\n    data_dir: ""\n');
    expectIssue(error, 'app.server.data_dir', `file ${file}`, /empty/);
  });
});

describe('JWT secret', () => {
  it('is optional (empty means generated later)', () => {
    expect(load({}).result().config.jwt.secret).toBe('');
  });

  it('must be at least 32 characters, and says how to make one', () => {
    const error = errorOf({ JWT_SECRET: 'short-secret' });
    expectIssue(error, 'app.jwt.secret', 'env JWT_SECRET', /at least 32 characters, got 12/);
    expect(error.message).toContain('openssl rand -hex 32');
    expect(error.message).toContain('leave it unset');
    expect(error.message).not.toContain('short-secret');
    expect(load({ JWT_SECRET: 'x'.repeat(32) }).result().config.jwt.secret).toBe('x'.repeat(32));
  });

  it.each(PLACEHOLDER_JWT_SECRETS.map((s) => [s]))(
    'refuses the placeholder %s from any layer',
    (placeholder) => {
      expectIssue(
        errorOf({ JWT_SECRET: placeholder }),
        'app.jwt.secret',
        'env JWT_SECRET',
        /placeholder.*openssl rand/,
      );
      const { error, file } = fail({}, `app:\n  jwt:\n    secret: "${placeholder}"\n`);
      expectIssue(error, 'app.jwt.secret', `file ${file}`, /placeholder/);
    },
  );

  it('lists the required placeholders', () => {
    expect(PLACEHOLDER_JWT_SECRETS).toEqual(
      expect.arrayContaining([
        'please-change-this-secret-in-production-min-32-chars-long-for-security',
        'please-change-this-secret-in-production-min-32-chars',
        'default-secret-change-in-productiondefault-secret-change-in-production',
        'change-me-to-a-random-secret-of-at-least-32-characters',
      ]),
    );
    expect(checkJwtSecret('a'.repeat(31))).toMatch(/at least 32/);
    expect(checkJwtSecret('a'.repeat(32))).toBeUndefined();
  });
});

describe('reporting', () => {
  it('reports every bad key at once, one per line, from every layer', () => {
    const { error, file } = fail(
      { PORT: 'abc', GC_BATCH_LIMIT: '0', JWT_SECRET: 'tiny', ELIZABETH__APP__SERVER__NOPE: '1' },
      'app:\n  server:\n    colour: blue\n  database:\n    min_connections: 50\n',
    );
    expectIssue(error, 'app.server.port', 'env PORT', /between 1 and 65535/);
    expectIssue(error, 'app.gc.batch_limit', 'env GC_BATCH_LIMIT', /between 1 and 10000/);
    expectIssue(error, 'app.jwt.secret', 'env JWT_SECRET', /at least 32/);
    expectIssue(error, 'app.server.nope', 'env ELIZABETH__APP__SERVER__NOPE', /unknown key/);
    expectIssue(error, 'app.server.colour', `file ${file}`, /unknown key/);
    expectIssue(error, 'app.database.min_connections', `file ${file}`, /must not exceed/);
    expect(error.issues).toHaveLength(6);
    expect(error.message.split('\n')).toHaveLength(6);
    expect(error.name).toBe('ConfigError');
  });

  it('reports a bad value even when a higher layer overrides it', () => {
    const { error, file } = fail({ PORT: '8080' }, 'app:\n  server:\n    port: eighty\n');
    expectIssue(error, 'app.server.port', `file ${file}`, /got "eighty"/);
  });
});
