import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { defaultConfig } from './defaults.js';
import { loadConfig } from './load.js';
import { REDACTED, SECRET_KEYS, formatConfigReport, redactConfig, redactUrl } from './redact.js';
import { CONFIG_LEAVES } from './schema.js';

const cleanups: string[] = [];
afterEach(() => {
  for (const dir of cleanups.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function sandbox() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'elizabeth-redact-'));
  cleanups.push(root);
  return { home: path.join(root, 'home'), cwd: root };
}

const SECRETS = {
  jwt: 'jwt-secret-value-0123456789abcdefghijkl',
  password: 'room-pass-value',
  accessKey: 'AKIA-access-key-value',
  secretKey: 's3-secret-key-value',
  admin: 'admin-token-value',
  metrics: 'metrics-token-value',
  dbPassword: 'db-password-value',
  dbQueryPassword: 'db-query-password-value',
  redisPassword: 'redis-password-value',
  rateLimitRedisPassword: 'ratelimit-redis-password-value',
};

function loadWithSecrets() {
  const { home, cwd } = sandbox();
  const file = path.join(cwd, 'c.yaml');
  fs.writeFileSync(file, `app:\n  admin:\n    token: ${SECRETS.admin}\n`);
  return loadConfig({
    homeDir: home,
    cwd,
    env: {
      CONFIG_FILE: file,
      ROOM_DEFAULT_PASSWORD: SECRETS.password,
      S3_ACCESS_KEY_ID: SECRETS.accessKey,
      S3_SECRET_ACCESS_KEY: SECRETS.secretKey,
      METRICS_TOKEN: SECRETS.metrics,
      DATABASE_URL: `postgres://eliza:${SECRETS.dbPassword}@db.internal:5432/elizabeth?sslmode=require&password=${SECRETS.dbQueryPassword}`,
      REDIS_URL: `redis://:${SECRETS.redisPassword}@cache.internal:6379/0`,
      MIDDLEWARE_RATE_LIMIT_REDIS_URL: `rediss://limiter:${SECRETS.rateLimitRedisPassword}@cache.internal:6380`,
    },
    cli: { jwtSecret: SECRETS.jwt },
  });
}

describe('redactConfig', () => {
  it('hides every secret and keeps everything else', () => {
    const loaded = loadWithSecrets();
    const redacted = redactConfig(loaded.config);
    const json = JSON.stringify(redacted);
    for (const secret of Object.values(SECRETS)) expect(json).not.toContain(secret);
    expect(redacted.jwt.secret).toBe(REDACTED);
    expect(redacted.room.defaults.password).toBe(REDACTED);
    expect(redacted.storage.s3.access_key_id).toBe(REDACTED);
    expect(redacted.storage.s3.secret_access_key).toBe(REDACTED);
    expect(redacted.admin.token).toBe(REDACTED);
    expect(redacted.metrics.token).toBe(REDACTED);
    expect(redacted.database.url).toBe(
      `postgres://${REDACTED}@db.internal:5432/elizabeth?sslmode=require&password=${REDACTED}`,
    );
    expect(redacted.realtime.redis_url).toBe(`redis://${REDACTED}@cache.internal:6379/0`);
    expect(redacted.middleware.rate_limit.redis_url).toBe(`rediss://${REDACTED}@cache.internal:6380`);
    expect(redacted.server).toEqual(loaded.config.server);
    expect(redacted.room.expiry).toEqual(loaded.config.room.expiry);
  });

  it('does not modify the config it is given', () => {
    const loaded = loadWithSecrets();
    const before = structuredClone(loaded.config);
    redactConfig(loaded.config);
    expect(loaded.config).toEqual(before);
  });

  it('leaves empty secrets visibly empty and a missing password null', () => {
    const redacted = redactConfig(defaultConfig());
    expect(redacted.jwt.secret).toBe('');
    expect(redacted.admin.token).toBe('');
    expect(redacted.room.defaults.password).toBeNull();
  });

  it('names the secret keys', () => {
    expect(SECRET_KEYS).toEqual(
      expect.arrayContaining([
        'app.jwt.secret',
        'app.room.defaults.password',
        'app.storage.s3.access_key_id',
        'app.storage.s3.secret_access_key',
        'app.admin.token',
        'app.metrics.token',
      ]),
    );
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://u:p@h/db', `postgres://${REDACTED}@h/db`],
    ['redis://:p@h:6379', `redis://${REDACTED}@h:6379`],
    ['postgres://h/db?user=x&PASSWORD=y', `postgres://h/db?user=x&PASSWORD=${REDACTED}`],
    ['sqlite:///srv/app.db', 'sqlite:///srv/app.db'],
    ['redis://h:6379', 'redis://h:6379'],
    ['', ''],
    ['not a url @ all', 'not a url @ all'],
  ])('%s -> %s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });
});

describe('formatConfigReport', () => {
  it('prints each key once with its redacted value and its source', () => {
    const { home, cwd } = sandbox();
    const file = path.join(cwd, 'c.yaml');
    fs.writeFileSync(file, 'app:\n  gc:\n    batch_limit: 7\n');
    const loaded = loadConfig({
      homeDir: home,
      cwd,
      env: { CONFIG_FILE: file, PORT: '8080', ROOM_MAX_SIZE: '50MiB' },
      cli: { listenAddr: '0.0.0.0' },
    });
    const lines = formatConfigReport(loaded).split('\n');
    expect(lines[0]).toBe(`# config file: ${file}`);
    expect(lines).toHaveLength(CONFIG_LEAVES.length + 1);
    expect(lines).toContain('app.server.port = 8080  (env PORT)');
    expect(lines).toContain('app.server.addr = "0.0.0.0"  (flag --listen-addr)');
    expect(lines).toContain(`app.gc.batch_limit = 7  (file ${file})`);
    expect(lines).toContain('app.gc.interval_seconds = 60 (1m)  (default)');
    expect(lines).toContain('app.room.defaults.max_size = 52428800 (50 MiB)  (env ROOM_MAX_SIZE)');
    expect(lines).toContain(
      `app.database.url = "sqlite://${path.join(cwd, 'data', 'elizabeth.db')}"  (derived from app.server.data_dir)`,
    );
    expect(lines).toContain('app.jwt.secret = ""  (default)');
  });

  it('never prints a secret', () => {
    const loaded = loadWithSecrets();
    const report = formatConfigReport(loaded);
    for (const secret of Object.values(SECRETS)) expect(report).not.toContain(secret);
    expect(report).toContain(`app.jwt.secret = ${REDACTED}  (flag --jwt-secret)`);
    expect(report).toContain(`app.admin.token = ${REDACTED}  (file ${loaded.configFile})`);
    expect(report).toContain(`app.storage.s3.secret_access_key = ${REDACTED}  (env S3_SECRET_ACCESS_KEY)`);
    expect(report).toContain('db.internal:5432');
  });

  it('says when no file was read', () => {
    const { home, cwd } = sandbox();
    expect(formatConfigReport(loadConfig({ env: {}, homeDir: home, cwd })).split('\n')[0]).toBe(
      '# config file: (none)',
    );
  });
});
