import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parseDocument } from 'yaml';

import { normaliseDatabaseUrl } from './database-url.js';
import { defaultConfig, defaultDatabaseUrl, defaultStorageRoot } from './defaults.js';
import { CONFIG_FILE_ENV, ENV_ALIASES, JWT_SECRET_FILE_ENV, NESTED_ENV_PREFIX } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { unquote } from './parse.js';
import {
  CONFIG_LEAVES,
  type ConfigLeaf,
  LEAF_BY_KEY,
  coerceLeaf,
  isLeaf,
  schemaNodeAt,
  setLeafValue,
  showValue,
  unknownKeyMessage,
} from './schema.js';
import type { ConfigSource } from './source.js';
import type { AppConfig, LogLevel } from './types.js';
import { validateConfig } from './validate.js';

export type { ConfigSource } from './source.js';

/** Values given on the command line; they win over every other layer. */
export interface CliOverrides {
  configFile?: string;
  port?: string | number;
  listenAddr?: string;
  jwtSecret?: string;
  dbUrl?: string;
  /** Count of `-v`: 1 info, 2 debug, 3 or more trace. */
  verbose?: number;
}

export interface LoadedConfig {
  config: AppConfig;
  /** Where each effective value came from, keyed by dotted path (`app.server.port`). */
  sources: Record<string, ConfigSource>;
  /** Absolute path of the YAML file that was read, if any. */
  configFile?: string;
}

export interface LoadConfigOptions {
  cli?: CliOverrides;
  /** Defaults to `process.env`; pass an object in tests. */
  env?: Record<string, string | undefined>;
  /** Base of the default file `<homeDir>/.config/elizabeth/config.yaml`; defaults to `os.homedir()`. */
  homeDir?: string;
  /** Base for relative paths; defaults to `process.cwd()`. */
  cwd?: string;
}

const FILE_ISSUE_KEY = 'app';

class Layers {
  readonly config = defaultConfig();
  readonly sources: Record<string, ConfigSource> = Object.fromEntries(
    CONFIG_LEAVES.map((leaf) => [leaf.key, { kind: 'default' }]),
  );
  readonly issues: ConfigIssue[] = [];

  set(leaf: ConfigLeaf, raw: unknown, source: ConfigSource): void {
    const result = coerceLeaf(leaf.key, leaf.spec, raw);
    if (!result.ok) {
      this.issues.push({ key: leaf.key, source, message: result.message });
      return;
    }
    setLeafValue(this.config, leaf.path, result.value);
    this.sources[leaf.key] = source;
  }

  /** Sets a value already in its final type, e.g. one computed from other keys. */
  replace(leaf: ConfigLeaf, value: unknown, source?: ConfigSource): void {
    setLeafValue(this.config, leaf.path, value);
    if (source) this.sources[leaf.key] = source;
  }

  issue(key: string, source: ConfigSource, message: string): void {
    this.issues.push({ key, source, message });
  }

  sourceOf(key: string): ConfigSource {
    return this.sources[key] ?? { kind: 'default' };
  }
}

function leaf(key: string): ConfigLeaf {
  const found = LEAF_BY_KEY.get(key);
  if (!found) throw new Error(`config schema has no key ${key}`);
  return found;
}

/** An env value as the alias rules read it: trimmed, unquoted, empty means unset. */
function envValue(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = unquote(raw);
  return value === '' ? undefined : value;
}

function locateConfigFile(
  cli: CliOverrides,
  env: Record<string, string | undefined>,
  homeDir: string,
  cwd: string,
  layers: Layers,
): string | undefined {
  const explicit =
    cli.configFile !== undefined
      ? { file: cli.configFile, source: { kind: 'flag', flag: '--config-file' } as const }
      : envValue(env, CONFIG_FILE_ENV) !== undefined
        ? { file: envValue(env, CONFIG_FILE_ENV)!, source: { kind: 'env', name: CONFIG_FILE_ENV } as const }
        : undefined;
  if (explicit) {
    const file = path.resolve(cwd, explicit.file);
    if (!fs.existsSync(file)) {
      layers.issue(FILE_ISSUE_KEY, explicit.source, `config file ${file} does not exist`);
      return undefined;
    }
    return file;
  }
  const fallback = path.join(homeDir, '.config', 'elizabeth', 'config.yaml');
  return fs.existsSync(fallback) ? fallback : undefined;
}

function readYamlLayer(file: string, layers: Layers): void {
  const source: ConfigSource = { kind: 'file', file };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    layers.issue(FILE_ISSUE_KEY, source, `cannot read the config file: ${(error as Error).message}`);
    return;
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) layers.issue(FILE_ISSUE_KEY, source, `invalid YAML: ${error.message}`);
    return;
  }
  const root: unknown = doc.toJS();
  if (root === null || root === undefined) return;
  if (!isPlainObject(root)) {
    layers.issue(FILE_ISSUE_KEY, source, 'the file must be a YAML mapping with the root key `app:`');
    return;
  }
  for (const [name, value] of Object.entries(root)) {
    if (name !== 'app') {
      layers.issue(name, source, 'unknown top-level key; the configuration must be under `app:`');
      continue;
    }
    walkYaml(value, [], layers, source);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walkYaml(value: unknown, at: readonly string[], layers: Layers, source: ConfigSource): void {
  // An empty section (`middleware:` with every child commented out) is null in YAML.
  if (value === null || value === undefined) return;
  const key = ['app', ...at].join('.');
  if (!isPlainObject(value)) {
    layers.issue(key, source, `must be a section (a mapping of keys), got ${JSON.stringify(value)}`);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const childPath = [...at, name];
    const node = schemaNodeAt(childPath);
    if (node === undefined) {
      layers.issue(['app', ...childPath].join('.'), source, unknownKeyMessage(childPath));
    } else if (isLeaf(node)) {
      layers.set(leaf(['app', ...childPath].join('.')), child, source);
    } else {
      walkYaml(child, childPath, layers, source);
    }
  }
}

function readNestedEnv(env: Record<string, string | undefined>, layers: Layers): void {
  const names = Object.keys(env)
    .filter((name) => name.toUpperCase().startsWith(NESTED_ENV_PREFIX))
    .sort();
  for (const name of names) {
    const source: ConfigSource = { kind: 'env', name };
    const segments = name.slice(NESTED_ENV_PREFIX.length).toLowerCase().split('__');
    const [root, ...rest] = segments;
    if (root !== 'app' || rest.length === 0 || segments.some((s) => s === '')) {
      layers.issue(
        segments.join('.'),
        source,
        `unknown variable: nested configuration names have the form ELIZABETH__APP__<SECTION>__<KEY>`,
      );
      continue;
    }
    const key = ['app', ...rest].join('.');
    const node = schemaNodeAt(rest);
    if (node === undefined) {
      layers.issue(key, source, unknownKeyMessage(rest));
      continue;
    }
    if (!isLeaf(node)) {
      const children = Object.keys(node).join(', ');
      layers.issue(key, source, `is a section, not a value; set one of its keys instead (${children})`);
      continue;
    }
    const value = envValue(env, name);
    if (value !== undefined) layers.set(leaf(key), value, source);
  }
}

const LEGACY_DB_SCHEMES = /^(sqlite|postgres|postgresql|mysql):/i;

function readAliasEnv(env: Record<string, string | undefined>, layers: Layers): void {
  for (const { name, key } of ENV_ALIASES) {
    const source: ConfigSource = { kind: 'env', name };
    if (name === 'ROOM_DEFAULT_PASSWORD') {
      // Present but empty is a deliberate "rooms have no default password".
      if (env[name] !== undefined && envValue(env, name) === undefined) {
        layers.replace(leaf(key), null, source);
        continue;
      }
    }
    let value = envValue(env, name);
    if (value === undefined) continue;
    if (name === 'DATABASE_PATH') {
      if (envValue(env, 'DATABASE_URL') !== undefined) continue;
      if (!LEGACY_DB_SCHEMES.test(value)) value = `sqlite://${value}`;
    }
    layers.set(leaf(key), value, source);
  }
}

/** `JWT_SECRET_FILE`: the secret read from a file, so it is in no environment or command line. */
function readSecretFile(env: Record<string, string | undefined>, layers: Layers): void {
  const file = envValue(env, JWT_SECRET_FILE_ENV);
  if (file === undefined) return;
  const source: ConfigSource = { kind: 'env', name: JWT_SECRET_FILE_ENV };
  if (envValue(env, 'JWT_SECRET') !== undefined) {
    layers.issue('app.jwt.secret', source, 'set JWT_SECRET or JWT_SECRET_FILE, not both');
    return;
  }
  try {
    layers.set(leaf('app.jwt.secret'), fs.readFileSync(file, 'utf8').trim(), source);
  } catch (error) {
    layers.issue('app.jwt.secret', source, `cannot read ${file}: ${(error as Error).message}`);
  }
}

function verboseLevel(count: number): LogLevel {
  return count >= 3 ? 'trace' : count === 2 ? 'debug' : 'info';
}

function readFlags(cli: CliOverrides, layers: Layers): void {
  const flags: ReadonlyArray<[keyof CliOverrides, string, string]> = [
    ['listenAddr', '--listen-addr', 'app.server.addr'],
    ['port', '--port', 'app.server.port'],
    ['jwtSecret', '--jwt-secret', 'app.jwt.secret'],
    ['dbUrl', '--db-url', 'app.database.url'],
  ];
  for (const [option, flag, key] of flags) {
    const raw = cli[option];
    if (raw === undefined) continue;
    layers.set(leaf(key), typeof raw === 'string' ? raw.trim() : raw, { kind: 'flag', flag });
  }
  const verbose = cli.verbose ?? 0;
  if (verbose > 0) {
    const flag = `-${'v'.repeat(Math.min(verbose, 3))}`;
    layers.replace(leaf('app.logging.level'), verboseLevel(verbose), { kind: 'flag', flag });
  }
}

/** Paths become absolute and the keys that follow the data dir are derived from it. */
function postProcess(layers: Layers, cwd: string): void {
  const { config } = layers;
  const dataDirFrom = 'app.server.data_dir';
  if (config.server.data_dir.trim() === '') {
    layers.issue(dataDirFrom, layers.sourceOf(dataDirFrom), 'must not be empty');
  }
  const dataDir = path.resolve(cwd, config.server.data_dir);
  config.server.data_dir = dataDir;

  const derived: ConfigSource = { kind: 'derived', from: dataDirFrom };
  if (layers.sourceOf('app.storage.root').kind === 'default') {
    layers.replace(leaf('app.storage.root'), defaultStorageRoot(dataDir), derived);
  } else if (config.storage.root.trim() === '') {
    layers.issue('app.storage.root', layers.sourceOf('app.storage.root'), 'must not be empty');
  } else {
    config.storage.root = path.resolve(cwd, config.storage.root);
  }

  if (config.server.web_root !== '') config.server.web_root = path.resolve(cwd, config.server.web_root);
  config.server.public_url = config.server.public_url.replace(/\/+$/, '');

  if (layers.sourceOf('app.database.url').kind === 'default') {
    layers.replace(leaf('app.database.url'), defaultDatabaseUrl(dataDir), derived);
  } else {
    try {
      config.database.url = normaliseDatabaseUrl(config.database.url, cwd);
    } catch (error) {
      layers.issue(
        'app.database.url',
        layers.sourceOf('app.database.url'),
        `${(error as Error).message}, got ${showValue('app.database.url', config.database.url)}`,
      );
    }
  }

  const password = config.room.defaults.password;
  if (password !== null) config.room.defaults.password = password.trim() === '' ? null : password.trim();
}

/**
 * Builds the effective configuration: defaults < YAML file < `ELIZABETH__APP__…` env < short
 * env aliases < CLI flags, then derives paths and validates. Throws `ConfigError` listing every
 * problem. Reads the YAML file and nothing else; `process.env` only as the default of `env`.
 */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const homeDir = opts.homeDir ?? os.homedir();
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const cli = opts.cli ?? {};
  const layers = new Layers();

  const configFile = locateConfigFile(cli, env, homeDir, cwd, layers);
  if (configFile) readYamlLayer(configFile, layers);
  readNestedEnv(env, layers);
  readAliasEnv(env, layers);
  readSecretFile(env, layers);
  readFlags(cli, layers);
  postProcess(layers, cwd);

  const issues = [...layers.issues, ...validateConfig(layers.config, layers.sources)];
  if (issues.length > 0) throw new ConfigError(issues);
  return { config: layers.config, sources: layers.sources, ...(configFile ? { configFile } : {}) };
}
