import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { parseDatabaseUrl } from '../db/url.js';
import { normaliseDatabaseUrl } from './database-url.js';
import { defaultConfig } from './defaults.js';
import { ENV_ALIASES } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { type CliOverrides, loadConfig } from './load.js';
import { CONFIG_LEAVES, LEAF_BY_KEY, getLeafValue } from './schema.js';
import { describeSource } from './source.js';

const SECRET_40 = 'k'.repeat(20) + 'Q'.repeat(20);
const cleanups: string[] = [];

afterEach(() => {
  for (const dir of cleanups.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function sandbox() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'elizabeth-config-'));
  cleanups.push(root);
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'work');
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  return {
    home,
    cwd,
    /** Writes a YAML file (relative to cwd unless absolute) and returns its absolute path. */
    yaml(file: string, text: string): string {
      const abs = path.resolve(cwd, file);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, text);
      return abs;
    },
    load(env: Record<string, string | undefined> = {}, cli?: CliOverrides) {
      return loadConfig({ env, homeDir: home, cwd, ...(cli ? { cli } : {}) });
    },
    fail(env: Record<string, string | undefined> = {}, cli?: CliOverrides): ConfigError {
      try {
        loadConfig({ env, homeDir: home, cwd, ...(cli ? { cli } : {}) });
      } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
      }
      throw new Error('expected loadConfig to throw a ConfigError');
    },
  };
}

function findIssue(error: ConfigError, key: string): ConfigIssue {
  const issue = error.issues.find((i) => i.key === key);
  if (!issue) throw new Error(`no issue for ${key}; got:\n${error.message}`);
  return issue;
}

describe('defaults', () => {
  it('uses the built-in defaults with absolute, data-dir-derived paths', () => {
    const s = sandbox();
    const { config, sources, configFile } = s.load();
    const dataDir = path.join(s.cwd, 'data');
    expect(configFile).toBeUndefined();
    expect(config.server.data_dir).toBe(dataDir);
    expect(config.database.url).toBe(`sqlite://${dataDir}/elizabeth.db`);
    expect(config.storage.root).toBe(path.join(dataDir, 'storage'));
    expect(sources['app.database.url']).toEqual({ kind: 'derived', from: 'app.server.data_dir' });
    expect(sources['app.storage.root']).toEqual({ kind: 'derived', from: 'app.server.data_dir' });
    const expected = defaultConfig();
    expected.server.data_dir = dataDir;
    expected.database.url = config.database.url;
    expected.storage.root = config.storage.root;
    expect(config).toEqual(expected);
  });

  it('records a source for every key', () => {
    const { sources } = sandbox().load();
    expect(Object.keys(sources).sort()).toEqual(CONFIG_LEAVES.map((l) => l.key).sort());
    expect(sources['app.server.port']).toEqual({ kind: 'default' });
  });

  it('moves the default database and storage root with data_dir', () => {
    const s = sandbox();
    const { config, sources } = s.load({ DATA_DIR: 'state/elizabeth' });
    const dataDir = path.join(s.cwd, 'state', 'elizabeth');
    expect(config.server.data_dir).toBe(dataDir);
    expect(sources['app.server.data_dir']).toEqual({ kind: 'env', name: 'DATA_DIR' });
    expect(config.database.url).toBe(`sqlite://${dataDir}/elizabeth.db`);
    expect(config.storage.root).toBe(path.join(dataDir, 'storage'));
  });

  it('keeps explicit storage root and database URL instead of deriving them', () => {
    const s = sandbox();
    const { config, sources } = s.load({
      DATA_DIR: '/srv/data',
      STORAGE_ROOT: 'blobs',
      DATABASE_URL: 'sqlite://db.sqlite',
    });
    expect(config.storage.root).toBe(path.join(s.cwd, 'blobs'));
    expect(config.database.url).toBe(`sqlite://${path.join(s.cwd, 'db.sqlite')}`);
    expect(sources['app.storage.root']).toEqual({ kind: 'env', name: 'STORAGE_ROOT' });
    expect(sources['app.database.url']).toEqual({ kind: 'env', name: 'DATABASE_URL' });
  });

  it('resolves web_root against cwd, keeps an empty one, and trims the public URL', () => {
    const s = sandbox();
    expect(s.load().config.server.web_root).toBe('');
    const { config } = s.load({ WEB_ROOT: 'web/out', PUBLIC_URL: 'https://share.example.com/' });
    expect(config.server.web_root).toBe(path.join(s.cwd, 'web', 'out'));
    expect(config.server.public_url).toBe('https://share.example.com');
  });
});

describe('YAML file', () => {
  it('reads <home>/.config/elizabeth/config.yaml when it exists', () => {
    const s = sandbox();
    const file = path.join(s.home, '.config', 'elizabeth', 'config.yaml');
    s.yaml(file, 'app:\n  server:\n    port: 5000\n');
    const { config, sources, configFile } = s.load();
    expect(configFile).toBe(file);
    expect(config.server.port).toBe(5000);
    expect(sources['app.server.port']).toEqual({ kind: 'file', file });
  });

  it('reads CONFIG_FILE relative to cwd instead of the home file', () => {
    const s = sandbox();
    s.yaml(path.join(s.home, '.config', 'elizabeth', 'config.yaml'), 'app:\n  server:\n    port: 5000\n');
    const file = s.yaml('conf/elizabeth.yaml', 'app:\n  server:\n    port: 5001\n');
    const loaded = s.load({ CONFIG_FILE: '"conf/elizabeth.yaml"' });
    expect(loaded.configFile).toBe(file);
    expect(loaded.config.server.port).toBe(5001);
  });

  it('prefers --config-file over CONFIG_FILE', () => {
    const s = sandbox();
    s.yaml('a.yaml', 'app:\n  server:\n    port: 5001\n');
    const b = s.yaml('b.yaml', 'app:\n  server:\n    port: 5002\n');
    const loaded = s.load({ CONFIG_FILE: 'a.yaml' }, { configFile: 'b.yaml' });
    expect(loaded.configFile).toBe(b);
    expect(loaded.config.server.port).toBe(5002);
  });

  it('requires an explicitly named file to exist', () => {
    const s = sandbox();
    const fromEnv = findIssue(s.fail({ CONFIG_FILE: 'missing.yaml' }), 'app');
    expect(describeSource(fromEnv.source)).toBe('env CONFIG_FILE');
    expect(fromEnv.message).toContain(path.join(s.cwd, 'missing.yaml'));
    const fromFlag = findIssue(s.fail({}, { configFile: '/nope/x.yaml' }), 'app');
    expect(describeSource(fromFlag.source)).toBe('flag --config-file');
  });

  it('parses sizes, durations, lists and null in the reference layout', () => {
    const s = sandbox();
    s.yaml(
      'c.yaml',
      [
        'app:',
        '  server:',
        '    addr: "0.0.0.0"',
        '  database:',
        '    url: "sqlite:///app/data/elizabeth.db"',
        '    max_connections: 10',
        '    min_connections: 1',
        '    journal_mode: "delete"',
        '  room:',
        '    defaults:',
        '      password: null',
        '      max_size: 50M',
        '    expiry:',
        '      allowed_ages: [1m, 30m, 2h, 3600d]',
        '      default_age: 30m',
        '    share_disabled_lock_duration: 1h',
        '  middleware:',
        '    cors:',
        '      allowed_methods: [GET, POST]',
        '      allowed_headers: "X-A, X-B"',
        '    security:',
        '      xss_protection: 0',
        '    trusted_proxies: true',
        '  gc:',
        '    interval_seconds: "2m"',
        '  metrics:',
        '    enabled: no',
      ].join('\n'),
    );
    const { config, sources } = s.load({ CONFIG_FILE: 'c.yaml' });
    expect(config.server.addr).toBe('0.0.0.0');
    expect(config.database).toMatchObject({
      url: 'sqlite:///app/data/elizabeth.db',
      max_connections: 10,
      min_connections: 1,
    });
    expect(config.database.journal_mode).toBe('delete');
    expect(config.room.defaults.password).toBeNull();
    expect(config.room.defaults.max_size).toBe(50_000_000);
    expect(config.room.expiry.allowed_ages).toEqual([60, 1800, 7200, 3600 * 86_400]);
    expect(config.room.expiry.default_age).toBe(1800);
    expect(config.room.share_disabled_lock_duration).toBe(3600);
    expect(config.middleware.cors.allowed_methods).toEqual(['GET', 'POST']);
    expect(config.middleware.cors.allowed_headers).toEqual(['X-A', 'X-B']);
    expect(config.middleware.security.xss_protection).toBe('0');
    expect(config.middleware.trusted_proxies).toEqual(['true']);
    expect(config.gc.interval_seconds).toBe(120);
    expect(config.metrics.enabled).toBe(false);
    expect(sources['app.room.defaults.password']).toEqual({ kind: 'file', file: path.join(s.cwd, 'c.yaml') });
  });

  it('accepts an empty file and empty sections', () => {
    const s = sandbox();
    s.yaml('empty.yaml', '');
    expect(s.load({ CONFIG_FILE: 'empty.yaml' }).config.server.port).toBe(4092);
    s.yaml('sections.yaml', 'app:\n  middleware:\n  server:\n    # port: 1\n');
    expect(s.load({ CONFIG_FILE: 'sections.yaml' }).config.server.port).toBe(4092);
  });

  it('reports unknown keys with the file and the keys that exist', () => {
    const s = sandbox();
    const file = s.yaml('c.yaml', 'app:\n  server:\n    prot: 1\n    Port: 2\n  serverz: {}\nextra: 1\n');
    const error = s.fail({ CONFIG_FILE: 'c.yaml' });
    const prot = findIssue(error, 'app.server.prot');
    expect(prot.source).toEqual({ kind: 'file', file });
    expect(prot.message).toMatch(/unknown key.*addr, port, data_dir/);
    expect(findIssue(error, 'app.server.Port').message).toContain('did you mean app.server.port?');
    expect(findIssue(error, 'app.serverz').message).toContain('unknown key');
    expect(findIssue(error, 'extra').message).toContain('`app:`');
    expect(error.message).toContain(`app.server.prot (file ${file}): unknown key`);
  });

  it('reports type mismatches naming the key and the file', () => {
    const s = sandbox();
    const file = s.yaml(
      'c.yaml',
      'app:\n  server:\n    port: "abc"\n  jwt:\n    enable_refresh_token_rotation: maybe\n  room:\n    defaults:\n      max_size: [1]\n  storage: 5\n',
    );
    const error = s.fail({ CONFIG_FILE: 'c.yaml' });
    expect(error.message).toContain(
      `app.server.port (file ${file}): must be an integer between 1 and 65535, got "abc"`,
    );
    expect(findIssue(error, 'app.jwt.enable_refresh_token_rotation').message).toMatch(/boolean.*"maybe"/);
    expect(findIssue(error, 'app.room.defaults.max_size').message).toMatch(/must be a size/);
    expect(findIssue(error, 'app.storage').message).toMatch(/must be a section/);
  });

  it('reports YAML syntax errors and non-mapping roots', () => {
    const s = sandbox();
    const file = s.yaml('bad.yaml', 'app:\n  server: [1, 2\n');
    const issue = findIssue(s.fail({ CONFIG_FILE: 'bad.yaml' }), 'app');
    expect(issue.source).toEqual({ kind: 'file', file });
    expect(issue.message).toMatch(/invalid YAML/);
    s.yaml('list.yaml', '- 1\n- 2\n');
    expect(findIssue(s.fail({ CONFIG_FILE: 'list.yaml' }), 'app').message).toMatch(/mapping/);
    s.yaml('dupe.yaml', 'app:\n  server:\n    port: 1\n    port: 2\n');
    expect(findIssue(s.fail({ CONFIG_FILE: 'dupe.yaml' }), 'app').message).toMatch(/invalid YAML/);
  });

  it('never writes the config file back', () => {
    const s = sandbox();
    const text = 'app:\n  server:\n    port: 5000\n';
    const file = s.yaml('c.yaml', text);
    const before = fs.statSync(file).mtimeMs;
    s.load({ CONFIG_FILE: 'c.yaml' });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(fs.statSync(file).mtimeMs).toBe(before);
  });
});

describe('precedence: defaults < file < nested env < alias env < flags', () => {
  const layers = ['default', 'file', 'nested', 'alias', 'flag'] as const;

  it.each(layers.map((layer, i) => [layer, i] as const))(
    'with layers up to %s, that layer wins',
    (_, top) => {
      const s = sandbox();
      const file = s.yaml(
        'c.yaml',
        `app:\n  server:\n    port: 5001\n  jwt:\n    secret: ${'f'.repeat(32)}\n`,
      );
      const env: Record<string, string> = {};
      const cli: CliOverrides = {};
      if (top >= 1) env.CONFIG_FILE = 'c.yaml';
      if (top >= 2) {
        env.ELIZABETH__APP__SERVER__PORT = '5002';
        env.ELIZABETH__APP__JWT__SECRET = 'n'.repeat(32);
      }
      if (top >= 3) {
        env.PORT = '5003';
        env.JWT_SECRET = 'a'.repeat(32);
      }
      if (top >= 4) {
        cli.port = '5004';
        cli.jwtSecret = 'c'.repeat(32);
      }
      const { config, sources } = s.load(env, cli);
      const expected = [
        { port: 4092, secret: '', source: { kind: 'default' } },
        { port: 5001, secret: 'f'.repeat(32), source: { kind: 'file', file } },
        { port: 5002, secret: 'n'.repeat(32), source: { kind: 'env', name: 'ELIZABETH__APP__SERVER__PORT' } },
        { port: 5003, secret: 'a'.repeat(32), source: { kind: 'env', name: 'PORT' } },
        { port: 5004, secret: 'c'.repeat(32), source: { kind: 'flag', flag: '--port' } },
      ][top]!;
      expect(config.server.port).toBe(expected.port);
      expect(config.jwt.secret).toBe(expected.secret);
      expect(sources['app.server.port']).toEqual(expected.source);
    },
  );

  it('keeps lower-layer values for keys a higher layer does not set', () => {
    const s = sandbox();
    s.yaml('c.yaml', 'app:\n  server:\n    addr: 10.0.0.1\n  gc:\n    batch_limit: 7\n');
    const { config, sources } = s.load({ CONFIG_FILE: 'c.yaml', GC_INTERVAL_SECONDS: '30' }, { port: 6000 });
    expect(config.server.addr).toBe('10.0.0.1');
    expect(config.gc).toEqual({ interval_seconds: 30, batch_limit: 7, orphan_sweep_interval_seconds: 3600 });
    expect(config.server.port).toBe(6000);
    expect(sources['app.gc.interval_seconds']).toEqual({ kind: 'env', name: 'GC_INTERVAL_SECONDS' });
  });

  it('applies every flag', () => {
    const s = sandbox();
    const { config, sources } = s.load(
      {},
      { listenAddr: '::', port: 7000, jwtSecret: SECRET_40, dbUrl: 'postgres://db.example/elizabeth' },
    );
    expect(config.server.addr).toBe('::');
    expect(config.server.port).toBe(7000);
    expect(config.jwt.secret).toBe(SECRET_40);
    expect(config.database.url).toBe('postgres://db.example/elizabeth');
    expect(sources['app.server.addr']).toEqual({ kind: 'flag', flag: '--listen-addr' });
    expect(sources['app.jwt.secret']).toEqual({ kind: 'flag', flag: '--jwt-secret' });
    expect(sources['app.database.url']).toEqual({ kind: 'flag', flag: '--db-url' });
  });

  it.each([
    [1, 'info', '-v'],
    [2, 'debug', '-vv'],
    [3, 'trace', '-vvv'],
    [5, 'trace', '-vvv'],
  ])('-v x%d sets the log level to %s over LOG_LEVEL', (count, level, flag) => {
    const { config, sources } = sandbox().load({ LOG_LEVEL: 'error' }, { verbose: count });
    expect(config.logging.level).toBe(level);
    expect(sources['app.logging.level']).toEqual({ kind: 'flag', flag });
  });

  it('leaves the log level alone without -v', () => {
    expect(sandbox().load({ LOG_LEVEL: 'error' }, { verbose: 0 }).config.logging.level).toBe('error');
  });

  it('reports a bad flag value naming the flag', () => {
    const error = sandbox().fail({}, { port: 'http' });
    expect(error.message).toContain(
      'app.server.port (flag --port): must be an integer between 1 and 65535, got "http"',
    );
  });
});

describe('nested env ELIZABETH__APP__…', () => {
  it('types values by the target key', () => {
    const { config, sources } = sandbox().load({
      ELIZABETH__APP__SERVER__PORT: '8080',
      ELIZABETH__APP__SERVER__BODY_LIMIT: '2MiB',
      ELIZABETH__APP__JWT__TTL_SECONDS: '1h 30m',
      ELIZABETH__APP__JWT__ENABLE_REFRESH_TOKEN_ROTATION: 'off',
      ELIZABETH__APP__ROOM__EXPIRY__ALLOWED_AGES: '1m, 2h ,7d',
      ELIZABETH__APP__MIDDLEWARE__CORS__ALLOWED_ORIGINS: 'https://a.example,"https://b.example"',
      ELIZABETH__APP__LOGGING__LEVEL: 'DEBUG',
      ELIZABETH__APP__ROOM__DEFAULTS__PERMISSIONS__DELETE: 'false',
      ELIZABETH__APP__DATABASE__BUSY_TIMEOUT_MS: '5000',
      ELIZABETH__APP__STORAGE__S3__REGION: 'eu-west-1',
    });
    expect(config.server.port).toBe(8080);
    expect(config.server.body_limit).toBe(2 * 1024 * 1024);
    expect(config.jwt.ttl_seconds).toBe(5400);
    expect(config.jwt.enable_refresh_token_rotation).toBe(false);
    expect(config.room.expiry.allowed_ages).toEqual([60, 7200, 604_800]);
    expect(config.middleware.cors.allowed_origins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.logging.level).toBe('debug');
    expect(config.room.defaults.permissions.delete).toBe(false);
    expect(config.database.busy_timeout_ms).toBe(5000);
    expect(config.storage.s3.region).toBe('eu-west-1');
    expect(sources['app.storage.s3.region']).toEqual({
      kind: 'env',
      name: 'ELIZABETH__APP__STORAGE__S3__REGION',
    });
  });

  it('matches segments case-insensitively', () => {
    const { config, sources } = sandbox().load({ elizabeth__App__Server__Port: '8081' });
    expect(config.server.port).toBe(8081);
    expect(sources['app.server.port']).toEqual({ kind: 'env', name: 'elizabeth__App__Server__Port' });
  });

  it('reports unknown keys, sections and malformed names', () => {
    const error = sandbox().fail({
      ELIZABETH__APP__SERVER__PROT: '1',
      ELIZABETH__APP__SERVER: 'x',
      ELIZABETH__OTHER__THING: 'x',
      ELIZABETH__APP__NOPE__KEY: 'x',
    });
    expect(error.message).toContain('app.server.prot (env ELIZABETH__APP__SERVER__PROT): unknown key');
    expect(findIssue(error, 'app.server').message).toMatch(/is a section.*addr, port/);
    expect(findIssue(error, 'other.thing').message).toContain('ELIZABETH__APP__<SECTION>__<KEY>');
    expect(findIssue(error, 'app.nope.key').message).toMatch(/keys under app: server, logging/);
    expect(error.issues).toHaveLength(4);
  });

  it('reports unparsable values instead of ignoring them', () => {
    const issue = findIssue(
      sandbox().fail({ ELIZABETH__APP__GC__BATCH_LIMIT: 'lots' }),
      'app.gc.batch_limit',
    );
    expect(issue.source).toEqual({ kind: 'env', name: 'ELIZABETH__APP__GC__BATCH_LIMIT' });
    expect(issue.message).toBe('must be an integer between 1 and 10000, got "lots"');
  });

  it('treats an empty value as unset', () => {
    const { config, sources } = sandbox().load({ ELIZABETH__APP__SERVER__PORT: '  ' });
    expect(config.server.port).toBe(4092);
    expect(sources['app.server.port']).toEqual({ kind: 'default' });
  });
});

type Sample = [input: string, expected: unknown];

/** A valid, non-default value for each alias, so that each one is seen to set its key. */
function sampleFor(name: string, key: string, cwd: string): Sample {
  const overrides: Record<string, Sample> = {
    LISTEN_ADDR: ['0.0.0.0', '0.0.0.0'],
    PORT: ['8080', 8080],
    DATA_DIR: ['var/lib', path.join(cwd, 'var/lib')],
    WEB_ROOT: ['/srv/web', '/srv/web'],
    PUBLIC_URL: ['https://share.example.com', 'https://share.example.com'],
    DATABASE_PATH: ['/srv/legacy.db', 'sqlite:///srv/legacy.db'],
    DATABASE_URL: ['postgres://db.example/elizabeth', 'postgres://db.example/elizabeth'],
    DB_MAX_CONNECTIONS: ['30', 30],
    ROOM_LIMIT_MAX_TIMES_ENTERED: ['5000', 5000],
    REALTIME_MAX_CONNECTIONS: ['20000', 20_000],
    STORAGE_ROOT: ['/srv/blobs', '/srv/blobs'],
    STORAGE_LOCAL_ACCEL_REDIRECT: ['/_elizabeth_files/', '/_elizabeth_files/'],
    S3_ENDPOINT: ['http://minio:9000', 'http://minio:9000'],
    S3_PRESIGN_DOWNLOADS_SECONDS: ['1m', 60],
    JWT_SECRET: [SECRET_40, SECRET_40],
    JWT_LEEWAY_SECONDS: ['30s', 30],
    ROOM_DEFAULT_PASSWORD: ['hunter22', 'hunter22'],
    ROOM_LIMIT_MAX_SIZE: ['20GiB', 20 * 2 ** 30],
    ROOM_DEFAULT_AGE: ['12h', 43_200],
    ROOM_MAX_MESSAGE_BYTES: ['1KiB', 1024],
    UPLOAD_MAX_FILE_SIZE: ['20GiB', 20 * 2 ** 30],
    REDIS_URL: ['redis://cache:6379', 'redis://cache:6379'],
    MIDDLEWARE_RATE_LIMIT_REDIS_URL: ['redis://cache:6380', 'redis://cache:6380'],
    MIDDLEWARE_REQUEST_ID_HEADER_NAME: ['X-Trace-Id', 'X-Trace-Id'],
    TRUSTED_PROXIES: ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
  };
  const override = overrides[name];
  if (override) return override;
  const { spec, path: leafPath } = LEAF_BY_KEY.get(key)!;
  const current = getLeafValue(defaultConfig(), leafPath);
  switch (spec.kind) {
    case 'bool':
      return [current ? 'false' : 'true', !current];
    case 'int':
      return ['3', 3];
    case 'size':
      return ['2MiB', 2 * 2 ** 20];
    case 'duration':
      return ['3h', 10_800];
    case 'duration-list':
      return ['1m,2h', [60, 7200]];
    case 'string-list':
      return ['X-One, X-Two', ['X-One', 'X-Two']];
    case 'enum': {
      const other = spec.values.find((v) => v !== current)!;
      return [other.toUpperCase(), other];
    }
    case 'string':
    case 'nullable-string':
      return ['sample-value', 'sample-value'];
  }
}

describe('alias env names', () => {
  it('has unique names that each map to a known key', () => {
    const names = ENV_ALIASES.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const { name, key } of ENV_ALIASES) expect(LEAF_BY_KEY.has(key), `${name} -> ${key}`).toBe(true);
    for (const name of [
      'PORT',
      'LISTEN_ADDR',
      'JWT_SECRET',
      'DATABASE_URL',
      'DATABASE_PATH',
      'ROOM_MAX_SIZE',
    ]) {
      expect(names).toContain(name);
    }
  });

  it.each(ENV_ALIASES.map((a) => [a.name, a.key] as const))('%s sets %s', (name, key) => {
    const s = sandbox();
    const [input, expected] = sampleFor(name, key, s.cwd);
    // Switching to S3 is only valid together with a bucket.
    const extra: Record<string, string> = name === 'STORAGE_BACKEND' ? { S3_BUCKET: 'files' } : {};
    const { config, sources } = s.load({ ...extra, [name]: input });
    expect(getLeafValue(config, LEAF_BY_KEY.get(key)!.path)).toEqual(expected);
    expect(sources[key]).toEqual({ kind: 'env', name });
  });

  it('strips surrounding quotes and whitespace', () => {
    const { config } = sandbox().load({
      JWT_SECRET: `  "${SECRET_40}"  `,
      MIDDLEWARE_SECURITY_XSS_PROTECTION: '"1; mode=block"',
      MIDDLEWARE_SECURITY_FRAME_OPTIONS: "'SAMEORIGIN'",
      MIDDLEWARE_CORS_ALLOWED_METHODS: '"GET, POST"',
    });
    expect(config.jwt.secret).toBe(SECRET_40);
    expect(config.middleware.security.xss_protection).toBe('1; mode=block');
    expect(config.middleware.security.frame_options).toBe('SAMEORIGIN');
    expect(config.middleware.cors.allowed_methods).toEqual(['GET', 'POST']);
  });

  it.each(['', '   ', '""', "''"])('treats %j as unset', (value) => {
    const s = sandbox();
    s.yaml('c.yaml', 'app:\n  server:\n    port: 5001\n');
    const { config, sources } = s.load({ CONFIG_FILE: 'c.yaml', PORT: value, LOG_LEVEL: value });
    expect(config.server.port).toBe(5001);
    expect(sources['app.server.port']?.kind).toBe('file');
    expect(config.logging.level).toBe('info');
  });

  it('takes an empty ROOM_DEFAULT_PASSWORD as "no default password", over the file', () => {
    const s = sandbox();
    s.yaml('c.yaml', 'app:\n  room:\n    defaults:\n      password: from-file\n');
    expect(s.load({ CONFIG_FILE: 'c.yaml' }).config.room.defaults.password).toBe('from-file');
    for (const empty of ['', '""', '  ']) {
      const { config, sources } = s.load({ CONFIG_FILE: 'c.yaml', ROOM_DEFAULT_PASSWORD: empty });
      expect(config.room.defaults.password).toBeNull();
      expect(sources['app.room.defaults.password']).toEqual({ kind: 'env', name: 'ROOM_DEFAULT_PASSWORD' });
    }
  });

  it('reports unparsable values instead of ignoring them', () => {
    const error = sandbox().fail({
      DB_MAX_CONNECTIONS: 'ten',
      MIDDLEWARE_CORS_ENABLED: 'sometimes',
      ROOM_ALLOWED_AGES: '1m,soon',
      ROOM_SHARE_DISABLED_LOCK_DURATION: '1 fortnight',
    });
    expect(error.message).toContain(
      'app.database.max_connections (env DB_MAX_CONNECTIONS): must be an integer',
    );
    expect(findIssue(error, 'app.middleware.cors.enabled').message).toContain('"sometimes"');
    expect(findIssue(error, 'app.room.expiry.allowed_ages').message).toContain('item "soon"');
    expect(findIssue(error, 'app.room.share_disabled_lock_duration').message).toContain(
      'unknown unit "fortnight"',
    );
    expect(error.issues).toHaveLength(4);
  });

  it('accepts bare seconds for duration aliases', () => {
    const { config } = sandbox().load({ ROOM_SHARE_DISABLED_LOCK_DURATION: '900', ROOM_DEFAULT_AGE: '7200' });
    expect(config.room.share_disabled_lock_duration).toBe(900);
    expect(config.room.expiry.default_age).toBe(7200);
  });
});

describe('DATABASE_PATH (legacy)', () => {
  it('turns a bare relative path into an absolute SQLite URL', () => {
    const s = sandbox();
    const { config, sources } = s.load({ DATABASE_PATH: 'db/app.db' });
    expect(config.database.url).toBe(`sqlite://${path.join(s.cwd, 'db', 'app.db')}`);
    expect(sources['app.database.url']).toEqual({ kind: 'env', name: 'DATABASE_PATH' });
  });

  it('keeps values that already are URLs', () => {
    expect(sandbox().load({ DATABASE_PATH: 'sqlite:///srv/a.db' }).config.database.url).toBe(
      'sqlite:///srv/a.db',
    );
    expect(sandbox().load({ DATABASE_PATH: 'postgresql://h/db' }).config.database.url).toBe(
      'postgresql://h/db',
    );
  });

  it('is used only when DATABASE_URL is unset', () => {
    const s = sandbox();
    const both = s.load({ DATABASE_PATH: '/srv/legacy.db', DATABASE_URL: 'sqlite:///srv/new.db' });
    expect(both.config.database.url).toBe('sqlite:///srv/new.db');
    expect(both.sources['app.database.url']).toEqual({ kind: 'env', name: 'DATABASE_URL' });
    const emptyUrl = s.load({ DATABASE_PATH: '/srv/legacy.db', DATABASE_URL: '' });
    expect(emptyUrl.config.database.url).toBe('sqlite:///srv/legacy.db');
  });
});

describe('database URL normalisation', () => {
  const cwd = '/work/dir';

  it.each([
    ['sqlite:///abs/app.db', 'sqlite:///abs/app.db'],
    ['sqlite://rel/app.db', 'sqlite:///work/dir/rel/app.db'],
    ['sqlite:rel.db', 'sqlite:///work/dir/rel.db'],
    ['sqlite:/abs.db', 'sqlite:///abs.db'],
    ['sqlite://app.db?mode=rwc', 'sqlite:///work/dir/app.db'],
    ['sqlite:///abs/app.db?mode=rwc', 'sqlite:///abs/app.db'],
    ['SQLite://../up.db', 'sqlite:///work/up.db'],
    ['sqlite::memory:', 'sqlite::memory:'],
    ['sqlite://:memory:', 'sqlite::memory:'],
    ['postgres://u:p@db:5432/elizabeth', 'postgres://u:p@db:5432/elizabeth'],
    ['postgresql://db/elizabeth?sslmode=require', 'postgresql://db/elizabeth?sslmode=require'],
  ])('%s -> %s', (input, output) => {
    expect(normaliseDatabaseUrl(input, cwd)).toBe(output);
  });

  it.each([
    ['', /empty/],
    ['mysql://u:p@h/db', /unsupported database "mysql"/],
    ['data/app.db', /not a database URL/],
    ['/abs/app.db', /not a database URL/],
    ['sqlite://', /no file path/],
    ['sqlite://a.db?mode=ro', /parameters are not supported/],
    ['postgres://[broken', /not a valid PostgreSQL URL/],
  ])('rejects %j', (input, message) => {
    expect(() => normaliseDatabaseUrl(input, cwd)).toThrow(message);
  });

  it('splits normalised URLs for the database module', () => {
    expect(parseDatabaseUrl('sqlite:///abs/app.db')).toEqual({ dialect: 'sqlite', filename: '/abs/app.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(parseDatabaseUrl('postgres://db/x')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://db/x',
    });
    expect(() => parseDatabaseUrl('sqlite:rel.db')).toThrow(/Invalid SQLite database URL/);
  });

  it('reports a bad URL through loadConfig with its source, without the password', () => {
    const error = sandbox().fail({ DATABASE_URL: 'mysql://root:hunter2-secret@db/x' });
    const issue = findIssue(error, 'app.database.url');
    expect(issue.source).toEqual({ kind: 'env', name: 'DATABASE_URL' });
    expect(error.message).not.toContain('hunter2-secret');
  });

  it('normalises a URL from the file against cwd', () => {
    const s = sandbox();
    s.yaml('c.yaml', 'app:\n  database:\n    url: "sqlite:app.db?mode=rwc"\n');
    expect(s.load({ CONFIG_FILE: 'c.yaml' }).config.database.url).toBe(
      `sqlite://${path.join(s.cwd, 'app.db')}`,
    );
  });
});
