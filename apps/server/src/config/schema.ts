/**
 * The shape and value type of every configuration key. One table drives YAML checking, both
 * environment layers, CLI flags, validation ranges and the `elizabeth config` report, so a key
 * added to `AppConfig` without an entry here fails to compile.
 */
import { parseBool, parseDuration, parseInteger, parseList, parseSize, unquote } from './parse.js';
import { REDACTED, SECRET_KEYS, URL_SECRET_KEYS, redactUrl } from './sensitive.js';
import type { AppConfig, JournalMode, LogLevel } from './types.js';

const LEAF: unique symbol = Symbol('config-leaf');

export type LeafSpec = { readonly [LEAF]: true } & (
  | { kind: 'string' }
  | { kind: 'nullable-string' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'size'; min: number }
  | { kind: 'duration'; min: number }
  | { kind: 'duration-list' }
  | { kind: 'string-list'; scalar?: boolean }
  | { kind: 'enum'; values: readonly string[]; aliases?: Readonly<Record<string, string>> }
);

type Scalar = string | number | boolean | null | readonly unknown[];
export type SchemaOf<T> = { readonly [K in keyof T]: T[K] extends Scalar ? LeafSpec : SchemaOf<T[K]> };
export interface SchemaSection {
  readonly [key: string]: SchemaSection | LeafSpec;
}

const str = (): LeafSpec => ({ [LEAF]: true, kind: 'string' });
const nullableStr = (): LeafSpec => ({ [LEAF]: true, kind: 'nullable-string' });
const int = (min: number, max = Number.MAX_SAFE_INTEGER): LeafSpec => ({
  [LEAF]: true,
  kind: 'int',
  min,
  max,
});
const bool = (): LeafSpec => ({ [LEAF]: true, kind: 'bool' });
const size = (min: number): LeafSpec => ({ [LEAF]: true, kind: 'size', min });
const duration = (min: number): LeafSpec => ({ [LEAF]: true, kind: 'duration', min });
const durationList = (): LeafSpec => ({ [LEAF]: true, kind: 'duration-list' });
/** `scalar`: a single YAML boolean or number is accepted as a one-item list (trusted_proxies: true). */
const strList = (scalar = false): LeafSpec => ({ [LEAF]: true, kind: 'string-list', scalar });
const oneOf = (values: readonly string[], aliases?: Record<string, string>): LeafSpec => ({
  [LEAF]: true,
  kind: 'enum',
  values,
  ...(aliases ? { aliases } : {}),
});

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const JOURNAL_MODES: readonly JournalMode[] = ['wal', 'delete', 'truncate', 'persist', 'memory', 'off'];
const LOG_LEVEL_ALIASES = { warning: 'warn' };

export const CONFIG_SCHEMA: SchemaOf<AppConfig> = {
  server: {
    addr: str(),
    port: int(1, 65535),
    data_dir: str(),
    body_limit: size(1),
    public_body_limit: size(1),
    headers_timeout_seconds: duration(1),
    body_timeout_seconds: duration(1),
    body_min_bytes: size(1),
    max_connections_per_client: int(1),
    web_root: str(),
    public_url: str(),
  },
  logging: { level: oneOf(LOG_LEVELS, LOG_LEVEL_ALIASES), format: oneOf(['auto', 'json', 'pretty']) },
  database: {
    url: str(),
    max_connections: int(1),
    min_connections: int(1),
    journal_mode: oneOf(JOURNAL_MODES),
    busy_timeout_ms: int(0),
  },
  storage: {
    backend: oneOf(['local', 's3']),
    root: str(),
    local: { accel_redirect: str() },
    max_total_size: size(0),
    s3: {
      endpoint: str(),
      region: str(),
      bucket: str(),
      access_key_id: str(),
      secret_access_key: str(),
      force_path_style: bool(),
      prefix: str(),
      presign_downloads_seconds: duration(0),
    },
  },
  jwt: {
    secret: str(),
    ttl_seconds: duration(1),
    leeway_seconds: duration(0),
    refresh_ttl_seconds: duration(1),
    cleanup_interval_seconds: duration(1),
    enable_refresh_token_rotation: bool(),
  },
  room: {
    defaults: {
      password: nullableStr(),
      max_times_entered: int(1),
      max_size: size(1),
      permissions: { read: bool(), edit: bool(), share: bool(), delete: bool() },
    },
    limits: { max_size: size(1), max_times_entered: int(1) },
    expiry: { allowed_ages: durationList(), default_age: duration(1) },
    share_disabled_lock_duration: duration(1),
    share_link_download_lease_seconds: duration(1),
    max_message_bytes: size(1),
    creation_limit: { max: int(0), window_seconds: duration(1) },
  },
  auth: {
    password_attempts: {
      max: int(1),
      room_max: int(1),
      window_seconds: duration(1),
      backoff_max_seconds: duration(1),
    },
    password_hashing: { concurrency: int(1), queue: int(0) },
  },
  upload: {
    reservation_ttl_seconds: duration(1),
    max_file_size: size(1),
    max_request_size: size(1),
    chunk_size: size(1),
  },
  gc: {
    interval_seconds: duration(1),
    batch_limit: int(1, 10_000),
    orphan_sweep_interval_seconds: duration(0),
  },
  realtime: {
    redis_url: str(),
    max_connections: int(1),
    max_connections_per_room: int(1),
    max_connections_per_client: int(1),
    ping_interval_seconds: duration(1),
    connect_timeout_seconds: duration(1),
  },
  middleware: {
    tracing: {
      enabled: bool(),
      level: oneOf(LOG_LEVELS, LOG_LEVEL_ALIASES),
      include_headers: bool(),
      include_body: bool(),
    },
    request_id: { enabled: bool(), header_name: str(), generate_if_missing: bool() },
    compression: { enabled: bool(), min_content_length: size(0) },
    cors: {
      enabled: bool(),
      allowed_origins: strList(),
      allowed_methods: strList(),
      allowed_headers: strList(),
      allow_credentials: bool(),
      max_age: duration(0),
      expose_headers: strList(),
    },
    security: {
      enabled: bool(),
      content_type_options: bool(),
      frame_options: str(),
      xss_protection: str(),
      strict_transport_security: str(),
      referrer_policy: str(),
      content_security_policy: str(),
    },
    rate_limit: {
      enabled: bool(),
      per_second: int(1),
      burst_size: int(1),
      cleanup_interval_seconds: duration(1),
      redis_url: str(),
    },
    trusted_proxies: strList(true),
  },
  admin: { token: str() },
  metrics: { enabled: bool(), token: str() },
};

export function isLeaf(node: SchemaSection | LeafSpec | undefined): node is LeafSpec {
  return node !== undefined && LEAF in node;
}

export interface ConfigLeaf {
  /** Dotted path including the `app.` root, e.g. `app.server.port`. */
  key: string;
  /** Path below `app`, e.g. `['server', 'port']`. */
  path: readonly string[];
  spec: LeafSpec;
}

function collectLeaves(section: SchemaSection, prefix: readonly string[]): ConfigLeaf[] {
  return Object.entries(section).flatMap(([name, node]) => {
    const path = [...prefix, name];
    return isLeaf(node) ? [{ key: `app.${path.join('.')}`, path, spec: node }] : collectLeaves(node, path);
  });
}

/** Every key in declaration order (the order of the report). */
export const CONFIG_LEAVES: readonly ConfigLeaf[] = collectLeaves(CONFIG_SCHEMA, []);
export const LEAF_BY_KEY: ReadonlyMap<string, ConfigLeaf> = new Map(CONFIG_LEAVES.map((l) => [l.key, l]));

/** The schema node at a path below `app` (`undefined` when there is none). */
export function schemaNodeAt(path: readonly string[]): SchemaSection | LeafSpec | undefined {
  let node: SchemaSection | LeafSpec | undefined = CONFIG_SCHEMA;
  for (const part of path) {
    if (node === undefined || isLeaf(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/**
 * "unknown key", plus the keys that do exist under the deepest known section and a suggestion
 * when the name only differs in case or `-`/`_`.
 */
export function unknownKeyMessage(path: readonly string[]): string {
  let depth = 0;
  let section = CONFIG_SCHEMA as SchemaSection;
  for (const part of path.slice(0, -1)) {
    const next = section[part];
    if (next === undefined || isLeaf(next)) break;
    section = next;
    depth += 1;
  }
  const where = ['app', ...path.slice(0, depth)].join('.');
  const names = Object.keys(section);
  const wanted = (path[depth] ?? '').toLowerCase().replaceAll('-', '_');
  const close = names.find((n) => n === wanted);
  const hint = close ? `; did you mean ${where}.${close}?` : '';
  return `unknown key${hint} (keys under ${where}: ${names.join(', ')})`;
}

export function getLeafValue(config: AppConfig, path: readonly string[]): unknown {
  let node: unknown = config;
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return node;
}

export function setLeafValue(config: AppConfig, path: readonly string[], value: unknown): void {
  let node = config as unknown as Record<string, unknown>;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

/** Shows a rejected raw value in a message; secret keys never echo what was given. */
export function showValue(key: string, raw: unknown): string {
  if (SECRET_KEYS.includes(key)) return REDACTED;
  if (typeof raw === 'string') return JSON.stringify(URL_SECRET_KEYS.includes(key) ? redactUrl(raw) : raw);
  if (raw === undefined) return 'nothing';
  return JSON.stringify(raw);
}

type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

const fail = (message: string): Coerced => ({ ok: false, message });
const ok = (value: unknown): Coerced => ({ ok: true, value });

export function describeKind(spec: LeafSpec): string {
  switch (spec.kind) {
    case 'string':
      return 'a string';
    case 'nullable-string':
      return 'a string or null';
    case 'int':
      if (spec.max < Number.MAX_SAFE_INTEGER) return `an integer between ${spec.min} and ${spec.max}`;
      return `an integer of at least ${spec.min}`;
    case 'bool':
      return 'a boolean (true/false, yes/no, on/off, 1/0)';
    case 'size':
      return `a size${spec.min > 0 ? ` of at least ${spec.min} byte${spec.min === 1 ? '' : 's'}` : ''} (bytes, or a number with a unit such as 512KiB, 50MiB, 1G)`;
    case 'duration':
      return `a duration${spec.min > 0 ? ` of at least ${spec.min}s` : ''} (seconds, or units such as 30m, 2h, 7d, 1h 30m)`;
    case 'duration-list':
      return 'a list of durations (e.g. [1m, 30m, 2h] or "1m,30m,2h")';
    case 'string-list':
      return 'a list of strings (a YAML list or a comma-separated string)';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
  }
}

function withReason(spec: LeafSpec, key: string, raw: unknown, reason?: string): Coerced {
  return fail(`must be ${describeKind(spec)}, got ${showValue(key, raw)}${reason ? `: ${reason}` : ''}`);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Converts a raw value to the key's type. `raw` is a YAML value, or a string from the
 * environment or a flag (already trimmed and unquoted by the caller).
 */
export function coerceLeaf(key: string, spec: LeafSpec, raw: unknown): Coerced {
  const isText = typeof raw === 'string';
  switch (spec.kind) {
    case 'string':
      if (isText) return ok(raw);
      if (typeof raw === 'number') return ok(String(raw));
      return withReason(spec, key, raw, typeof raw === 'boolean' ? 'quote it to use it as text' : undefined);
    case 'nullable-string':
      if (raw === null || isText) return ok(raw);
      if (typeof raw === 'number') return ok(String(raw));
      return withReason(spec, key, raw);
    case 'bool':
      if (typeof raw === 'boolean') return ok(raw);
      if (raw === 0 || raw === 1) return ok(raw === 1);
      if (isText) {
        try {
          return ok(parseBool(raw));
        } catch {
          return withReason(spec, key, raw);
        }
      }
      return withReason(spec, key, raw);
    case 'int': {
      if (!isText && typeof raw !== 'number') return withReason(spec, key, raw);
      let n: number;
      try {
        n = parseInteger(raw);
      } catch (error) {
        return withReason(spec, key, raw, isText ? undefined : reasonOf(error));
      }
      if (n < spec.min || n > spec.max) return withReason(spec, key, raw);
      return ok(n);
    }
    case 'size':
    case 'duration': {
      if (!isText && typeof raw !== 'number') return withReason(spec, key, raw);
      let n: number;
      try {
        n = spec.kind === 'size' ? parseSize(raw) : parseDuration(raw);
      } catch (error) {
        return withReason(spec, key, raw, reasonOf(error));
      }
      if (n < spec.min) return withReason(spec, key, raw);
      return ok(n);
    }
    case 'duration-list': {
      const items = isText ? parseList(raw) : raw;
      if (!Array.isArray(items)) return withReason(spec, key, raw);
      const out: number[] = [];
      for (const item of items) {
        if (typeof item !== 'string' && typeof item !== 'number') return withReason(spec, key, raw);
        try {
          out.push(parseDuration(typeof item === 'string' ? unquote(item) : item));
        } catch (error) {
          return withReason(spec, key, raw, `item ${JSON.stringify(item)}: ${reasonOf(error)}`);
        }
      }
      return ok(out);
    }
    case 'string-list': {
      if (isText) return ok(parseList(raw));
      if (spec.scalar && (typeof raw === 'boolean' || typeof raw === 'number')) return ok([String(raw)]);
      if (!Array.isArray(raw)) return withReason(spec, key, raw);
      const out: string[] = [];
      for (const item of raw as unknown[]) {
        if (typeof item === 'string') out.push(item.trim());
        else if (typeof item === 'number') out.push(String(item));
        else return withReason(spec, key, raw, `item ${JSON.stringify(item)} is not a string`);
      }
      return ok(out.filter((item) => item !== ''));
    }
    case 'enum': {
      if (!isText) return withReason(spec, key, raw);
      const word = raw.trim().toLowerCase();
      const value = spec.aliases?.[word] ?? word;
      if (!spec.values.includes(value)) return withReason(spec, key, raw);
      return ok(value);
    }
  }
}
