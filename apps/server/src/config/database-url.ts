import path from 'node:path';

const USAGE =
  'use sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite::memory: or postgres://user:password@host:5432/db';

/**
 * The one form every other module sees: `sqlite:///abs/path.db`, `sqlite::memory:` or the
 * PostgreSQL URL as given. Relative SQLite paths are resolved against `cwd`; the `?mode=rwc`
 * suffix of older configs is dropped because the file is always created when missing.
 * Throws with the reason for anything else.
 */
export function normaliseDatabaseUrl(url: string, cwd: string): string {
  const text = url.trim();
  if (text === '') throw new Error(`is empty; ${USAGE}`);
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      throw new Error(`is not a valid PostgreSQL URL; ${USAGE}`);
    }
    return text;
  }
  if (!/^sqlite:/i.test(text)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
    throw new Error(`${scheme ? `unsupported database "${scheme}"` : 'is not a database URL'}; ${USAGE}`);
  }
  const rest = text.slice('sqlite:'.length);
  const [location = '', query] = rest.split(/\?(.*)/s);
  if (query !== undefined && query !== '' && query.toLowerCase() !== 'mode=rwc') {
    throw new Error(`SQLite URL parameters are not supported ("?${query}"); ${USAGE}`);
  }
  const file = location.startsWith('//') ? location.slice(2) : location;
  if (file === ':memory:') return 'sqlite::memory:';
  if (file === '') throw new Error(`has no file path; ${USAGE}`);
  return `sqlite://${path.resolve(cwd, file)}`;
}
