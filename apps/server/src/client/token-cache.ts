import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One room's session as the client keeps it between runs. */
export interface CachedSession {
  token: string;
  expires_at: string;
  refresh_token?: string | undefined;
  refresh_token_expires_at?: string | undefined;
}

/**
 * Tokens per room (`<base>|<room>`) in `<cache dir>/tokens.json`, mode 0600 in a 0700 directory.
 * Written whole to a temporary file and renamed, so a crash never leaves half a file.
 */
export class TokenCache {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'tokens.json');
  }

  get(key: string): CachedSession | undefined {
    return this.read()[key];
  }

  set(key: string, session: CachedSession | undefined): void {
    const all = this.read();
    if (session === undefined) delete all[key];
    else all[key] = session;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }

  private read(): Record<string, CachedSession> {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, CachedSession>;
    } catch {
      return {};
    }
  }
}
