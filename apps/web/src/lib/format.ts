/** Compound extensions kept whole (`.tar.gz`, not `.gz`). */
const COMPOUND = /\.tar\.(?:gz|bz2|xz|zst|lz|lzma|z)$/i;
/** A last extension: up to 10 letters or digits after the final dot. */
const SINGLE = /\.[a-z0-9]{1,10}$/i;

/**
 * Splits a file name into what may be cut short and the extension that must stay visible
 * (`report-final.pdf` → `report-final` + `.pdf`). A name that is only an extension (`.env`),
 * or has none, is all stem.
 */
export function splitFileName(name: string): { stem: string; extension: string } {
  const match = COMPOUND.exec(name) ?? SINGLE.exec(name);
  if (!match || match.index === 0) return { stem: name, extension: '' };
  return { stem: name.slice(0, match.index), extension: match[0] };
}

/** Human-readable byte counts with binary units (1 KiB = 1024 B), shown as KB/MB/GB. */
export function formatBytes(bytes: number, fractionDigits = 1): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value >= 100 ? 0 : fractionDigits;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

const durationFormats = new Map<string, Intl.NumberFormat>();

type DurationUnit = 'day' | 'hour' | 'minute' | 'second';

function durationPart(value: number, unit: DurationUnit, locale: string, pad: boolean): string {
  const key = `${locale}:${unit}:${pad}`;
  let format = durationFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, {
      style: 'unit',
      unit,
      unitDisplay: 'narrow',
      minimumIntegerDigits: pad ? 2 : 1,
    });
    durationFormats.set(key, format);
  }
  return format.format(value);
}

/**
 * A compact duration in the locale's units: `45s`, `3m 5s`, `2h 10m`, `3d 4h` in English,
 * `23小时54分钟` in Chinese (whose units are not separated by spaces).
 */
export function formatDuration(totalSeconds: number, locale = 'en'): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '—';
  const s = Math.floor(totalSeconds);
  const minutes = Math.floor(s / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const parts: [number, DurationUnit][] =
    s < 60
      ? [[s, 'second']]
      : minutes < 60
        ? [
            [minutes, 'minute'],
            [s % 60, 'second'],
          ]
        : hours < 24
          ? [
              [hours, 'hour'],
              [minutes % 60, 'minute'],
            ]
          : [
              [days, 'day'],
              [hours % 24, 'hour'],
            ];
  // English pads the second part (`2h 05m`) so a ticking countdown keeps its width.
  const chinese = locale.toLowerCase().startsWith('zh');
  return parts
    .map(([value, unit], index) =>
      durationPart(value, unit, locale, !chinese && index === 1 && unit !== 'hour'),
    )
    .join(chinese ? '' : ' ');
}

export type AgeUnit = 'year' | 'day' | 'hour' | 'minute' | 'second';

/** The largest unit dividing an age exactly: 7200 → {2, hour}, 604800 → {7, day}. */
export function splitAge(seconds: number): { value: number; unit: AgeUnit } {
  const units: [AgeUnit, number][] = [
    ['year', 31_536_000],
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (seconds >= size && seconds % size === 0) return { value: seconds / size, unit };
  }
  return { value: seconds, unit: 'second' };
}

export function formatAge(seconds: number, locale: string): string {
  const { value, unit } = splitAge(seconds);
  try {
    return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
  } catch {
    return `${value} ${unit}${value === 1 ? '' : 's'}`;
  }
}

/** The allowed age closest to a remaining lifetime (used to preselect the expiry control). */
export function closestAge(allowed: readonly number[], remainingSeconds: number): number | undefined {
  let best: number | undefined;
  for (const age of allowed) {
    if (best === undefined || Math.abs(age - remainingSeconds) < Math.abs(best - remainingSeconds))
      best = age;
  }
  return best;
}

/** Parses an RFC 3339 timestamp; a value without a zone is read as UTC. */
export function parseTimestamp(value: string | null | undefined): number {
  if (!value) return Number.NaN;
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value);
  return Date.parse(hasZone ? value : `${value}Z`);
}

export function formatTime(value: string, locale: string, now = Date.now()): string {
  const time = parseTimestamp(value);
  if (Number.isNaN(time)) return '';
  const date = new Date(time);
  const today = new Date(now);
  const sameDay = date.toDateString() === today.toDateString();
  const options: Intl.DateTimeFormatOptions = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : date.getFullYear() === today.getFullYear()
      ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale, options).format(date);
}

export function formatFullTime(value: string, locale: string): string {
  const time = parseTimestamp(value);
  if (Number.isNaN(time)) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'medium' }).format(new Date(time));
}
