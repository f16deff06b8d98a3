import { isAbsolute } from 'node:path';

export type DatabaseTarget =
  | { dialect: 'sqlite'; /** Absolute path or `:memory:`. */ filename: string }
  | { dialect: 'postgres'; connectionString: string };

/**
 * Reads the database URL the config module produced. Only absolute SQLite paths are accepted
 * because a relative one would depend on the working directory of whoever starts the process.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    try {
      new URL(trimmed);
    } catch {
      throw new Error('Invalid PostgreSQL database URL');
    }
    return { dialect: 'postgres', connectionString: trimmed };
  }
  if (/^sqlite:/i.test(trimmed)) {
    // sqlx-style options (`?mode=rwc`) may still be present in configs copied from the reference.
    const rest = trimmed.slice('sqlite:'.length).replace(/\?.*$/, '');
    if (rest === ':memory:' || rest === '//:memory:') return { dialect: 'sqlite', filename: ':memory:' };
    if (rest.startsWith('//')) {
      const filename = rest.slice(2);
      if (filename !== '' && isAbsolute(filename)) return { dialect: 'sqlite', filename };
    }
    throw new Error(
      `Invalid SQLite database URL "${trimmed}": expected sqlite:///absolute/path.db or sqlite::memory:`,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1];
  throw new Error(
    `Unsupported database URL${scheme ? ` scheme "${scheme}"` : ''}: use sqlite:///path.db, sqlite::memory: or postgres://…`,
  );
}
