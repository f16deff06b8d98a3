export type { AppConfig, JournalMode, LogLevel, StorageBackend } from './types.js';
export type { ConfigSource } from './source.js';
export { describeSource } from './source.js';
export { ConfigError, type ConfigIssue, formatIssue } from './errors.js';
export {
  formatDuration,
  formatSize,
  parseBool,
  parseDuration,
  parseInteger,
  parseList,
  parseSize,
  unquote,
} from './parse.js';
export {
  DEFAULT_CONFIG,
  DEFAULT_DATA_DIR,
  defaultConfig,
  defaultDatabaseUrl,
  defaultStorageRoot,
} from './defaults.js';
export { CONFIG_FILE_ENV, ENV_ALIASES, NESTED_ENV_PREFIX } from './env.js';
export { normaliseDatabaseUrl } from './database-url.js';
// Splitting a normalised URL into driver settings belongs to the db layer: `parseDatabaseUrl` in db/url.ts.
export { type CliOverrides, type LoadConfigOptions, type LoadedConfig, loadConfig } from './load.js';
export { CONFIG_LEAVES } from './schema.js';
export {
  JWT_SECRET_MIN_LENGTH,
  PLACEHOLDER_JWT_SECRETS,
  checkJwtSecret,
  validateConfig,
} from './validate.js';
export {
  REDACTED,
  SECRET_KEYS,
  URL_SECRET_KEYS,
  formatConfigReport,
  redactConfig,
  redactUrl,
  redactValue,
} from './redact.js';
export { JWT_SECRET_FILE, type ResolvedJwtSecret, resolveJwtSecret } from './secret.js';
