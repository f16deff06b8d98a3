/**
 * Parsers for the human-friendly value syntaxes of the configuration. Every parser throws an
 * `Error` whose message explains what is wrong; callers add the key and the source.
 */

const SIZE_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['b', 1n],
  ['k', 10n ** 3n],
  ['kb', 10n ** 3n],
  ['m', 10n ** 6n],
  ['mb', 10n ** 6n],
  ['g', 10n ** 9n],
  ['gb', 10n ** 9n],
  ['t', 10n ** 12n],
  ['tb', 10n ** 12n],
  ['p', 10n ** 15n],
  ['pb', 10n ** 15n],
  ['ki', 2n ** 10n],
  ['kib', 2n ** 10n],
  ['mi', 2n ** 20n],
  ['mib', 2n ** 20n],
  ['gi', 2n ** 30n],
  ['gib', 2n ** 30n],
  ['ti', 2n ** 40n],
  ['tib', 2n ** 40n],
  ['pi', 2n ** 50n],
  ['pib', 2n ** 50n],
]);

const SIZE_SYNTAX = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)$/i;

/**
 * Bytes from an integer or `<decimal><optional spaces><unit>`: decimal units K/KB (10³) … P/PB,
 * binary units Ki/KiB (2¹⁰) … Pi/PiB, case-insensitive. `50M` = 50 000 000, `50MiB` = 52 428 800.
 */
export function parseSize(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`a size in bytes must be a non-negative integer`);
    return v;
  }
  const text = v.trim();
  if (text === '') throw new Error('empty size');
  if (/^\d+$/.test(text)) return checkedSafe(BigInt(text));
  const match = SIZE_SYNTAX.exec(text);
  if (!match) {
    throw new Error(`not a size: use bytes or a number with a unit, e.g. 512KiB, 50MiB, 1G`);
  }
  const [, amount = '', unitText = ''] = match;
  const multiplier = SIZE_UNITS.get(unitText.toLowerCase());
  if (multiplier === undefined) {
    throw new Error(
      `unknown unit "${unitText}"; use B, K/KB, M/MB, G/GB, T/TB, P/PB or KiB, MiB, GiB, TiB, PiB`,
    );
  }
  // Exact decimal arithmetic: 1.1MB must be 1 100 000, not 1 100 000.0000000002.
  const [whole = '', fraction = ''] = amount.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(`${whole}${fraction}` || '0') * multiplier;
  if (scaled % scale !== 0n) throw new Error(`is not a whole number of bytes`);
  return checkedSafe(scaled / scale);
}

function checkedSafe(bytes: bigint): number {
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('is too large');
  return Number(bytes);
}

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ...['s', 'sec', 'secs', 'second', 'seconds'].map((u) => [u, 1] as const),
  ...['m', 'min', 'mins', 'minute', 'minutes'].map((u) => [u, 60] as const),
  ...['h', 'hr', 'hrs', 'hour', 'hours'].map((u) => [u, 3600] as const),
  ...['d', 'day', 'days'].map((u) => [u, 86_400] as const),
  ...['w', 'week', 'weeks'].map((u) => [u, 604_800] as const),
]);

const SUB_SECOND_UNITS = new Set(['ms', 'msec', 'millis', 'us', 'usec', 'ns', 'nsec']);
const DURATION_GROUP = /(\d+)\s*([a-z]+)\s*/giy;

/**
 * Whole seconds from a non-negative integer or humantime groups (`90`, `30m`, `2h`, `1h 30m`,
 * `7d`, `1w`). Sub-second units are refused rather than rounded: every duration in this config
 * is stored in seconds, so `500ms` could only become 0 or 1 and both would surprise.
 */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new Error('must be a non-negative integer number of seconds');
    return v;
  }
  const text = v.trim();
  if (text === '') throw new Error('empty duration');
  if (/^\d+$/.test(text)) return checkedSeconds(Number(text));
  if (/^-\d/.test(text)) throw new Error('must not be negative');
  let total = 0;
  DURATION_GROUP.lastIndex = 0;
  let consumed = 0;
  for (let m = DURATION_GROUP.exec(text); m; m = DURATION_GROUP.exec(text)) {
    const [group, count = '', unitText = ''] = m;
    const unit = unitText.toLowerCase();
    const seconds = DURATION_UNITS.get(unit);
    if (seconds === undefined) {
      if (SUB_SECOND_UNITS.has(unit)) throw new Error(`sub-second unit "${unitText}" is not supported`);
      throw new Error(`unknown unit "${unitText}"; use s, m, h, d or w, e.g. 30m, 2h, 7d, 1h 30m`);
    }
    total += Number(count) * seconds;
    consumed += group.length;
  }
  if (consumed !== text.length) {
    throw new Error('not a duration: use seconds or units, e.g. 90, 30m, 2h, 7d, 1h 30m');
  }
  return checkedSeconds(total);
}

function checkedSeconds(seconds: number): number {
  if (!Number.isSafeInteger(seconds)) throw new Error('is too large');
  return seconds;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/** `1|true|yes|on` / `0|false|no|off`, case-insensitive; anything else throws. */
export function parseBool(v: string | boolean): boolean {
  if (typeof v === 'boolean') return v;
  const word = v.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new Error('not a boolean: use true/false, yes/no, on/off or 1/0');
}

/** A strict decimal integer (no `1e3`, `0x10`, `12abc`, fractions); must be a safe integer. */
export function parseInteger(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error('not an integer');
    return v;
  }
  const text = v.trim();
  if (!/^[+-]?\d+$/.test(text)) throw new Error('not an integer');
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error('is too large');
  return n;
}

/** Trims and removes one pair of matching surrounding quotes (`"x"` or `'x'`). */
export function unquote(v: string): string {
  const text = v.trim();
  if (text.length >= 2) {
    const first = text[0];
    if ((first === '"' || first === "'") && text.endsWith(first)) return text.slice(1, -1);
  }
  return text;
}

/** Comma list: items trimmed, surrounding quotes stripped, empty items dropped. */
export function parseList(v: string): string[] {
  return v
    .split(',')
    .map((item) => unquote(item))
    .filter((item) => item !== '');
}

const BINARY_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A readable size for reports: exact binary units when they divide evenly (`50 MiB`), else bytes. */
export function formatSize(bytes: number): string {
  let unit = '';
  let value = bytes;
  for (const next of BINARY_UNITS) {
    if (value < 1024 || value % 1024 !== 0) break;
    value /= 1024;
    unit = next;
  }
  return unit === '' ? `${bytes} B` : `${value} ${unit}`;
}

/** A readable duration for reports, in the syntax `parseDuration` accepts (`1h 30m`, `7d`). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}
