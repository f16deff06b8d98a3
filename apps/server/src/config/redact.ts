import type { LoadedConfig } from './load.js';
import { formatDuration, formatSize } from './parse.js';
import { CONFIG_LEAVES, getLeafValue, setLeafValue } from './schema.js';
import { describeSource } from './source.js';
import { REDACTED, redactValue } from './sensitive.js';
import type { AppConfig } from './types.js';

export { REDACTED, SECRET_KEYS, URL_SECRET_KEYS, redactUrl, redactValue } from './sensitive.js';

/** A copy of the config safe to print or log: secrets become `[REDACTED]`, empty ones stay empty. */
export function redactConfig(config: AppConfig): AppConfig {
  const copy = structuredClone(config);
  for (const leaf of CONFIG_LEAVES) {
    setLeafValue(copy, leaf.path, redactValue(leaf.key, getLeafValue(copy, leaf.path)));
  }
  return copy;
}

function formatValue(key: string, value: unknown, kind: string): string {
  const shown = redactValue(key, value);
  if (shown === REDACTED) return REDACTED;
  if (typeof shown === 'number' && kind === 'size') return `${shown} (${formatSize(shown)})`;
  if (typeof shown === 'number' && kind === 'duration') return `${shown} (${formatDuration(shown)})`;
  if (Array.isArray(shown) && kind === 'duration-list') {
    return `[${shown.map((s) => formatDuration(s as number)).join(', ')}]`;
  }
  return JSON.stringify(shown);
}

/**
 * `elizabeth config` output: the config file, then one line per key with its effective
 * (redacted) value and where it came from, e.g. `app.server.port = 4092  (env PORT)`.
 */
export function formatConfigReport(loaded: LoadedConfig): string {
  const lines = [`# config file: ${loaded.configFile ?? '(none)'}`];
  for (const leaf of CONFIG_LEAVES) {
    const value = getLeafValue(loaded.config, leaf.path);
    const source = loaded.sources[leaf.key];
    const origin = source ? describeSource(source) : 'default';
    lines.push(`${leaf.key} = ${formatValue(leaf.key, value, leaf.spec.kind)}  (${origin})`);
  }
  return lines.join('\n');
}
