/**
 * The terminal client's one reader of `process.env` (the server's is `config/`). Everything
 * else of the client receives a `ClientEnv`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClientEnv {
  /** `ELIZABETH_URL`: the server for bare room names. */
  serverUrl: string | undefined;
  /** `ELIZABETH_PASSWORD`: the room password when `--password` is not given. */
  password: string | undefined;
  /** `ELIZABETH_CACHE_DIR`, else `$XDG_CACHE_HOME/elizabeth`, else `~/.cache/elizabeth`. */
  cacheDir: string;
  /** `LC_ALL`, `LC_MESSAGES`, `LANG` in this order (the first one set). */
  locale: string | undefined;
  /** `NO_COLOR` set: no colours. */
  noColor: boolean;
}

export function readClientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  const nonEmpty = (value: string | undefined) => (value !== undefined && value !== '' ? value : undefined);
  const cacheHome = nonEmpty(env.XDG_CACHE_HOME) ?? join(nonEmpty(env.HOME) ?? homedir(), '.cache');
  return {
    serverUrl: nonEmpty(env.ELIZABETH_URL),
    password: env.ELIZABETH_PASSWORD,
    cacheDir: nonEmpty(env.ELIZABETH_CACHE_DIR) ?? join(cacheHome, 'elizabeth'),
    locale: nonEmpty(env.LC_ALL) ?? nonEmpty(env.LC_MESSAGES) ?? nonEmpty(env.LANG),
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
  };
}
