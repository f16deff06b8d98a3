import { randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import { ConfigError } from './errors.js';
import type { AppConfig } from './types.js';
import { checkJwtSecret } from './validate.js';

export const JWT_SECRET_FILE = 'jwt-secret';

export interface ResolvedJwtSecret {
  secret: string;
  /** True when this call created the secret file. */
  generated: boolean;
  /** The file the secret was read from or written to; absent when it came from the config. */
  file?: string;
}

async function readSecretFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = text.trim();
  const problem = checkJwtSecret(secret);
  if (problem) {
    throw new ConfigError([
      {
        key: 'app.jwt.secret',
        source: { kind: 'file', file },
        message: `the stored secret ${problem}, or delete the file to have a new one generated`,
      },
    ]);
  }
  return secret;
}

/**
 * Publishes `tmp` as `file` only if `file` does not exist yet. A hard link fails with EEXIST
 * when another process got there first, where `rename` would silently replace that process's
 * secret and leave the two signing with different keys. Filesystems without hard links fall
 * back to an exclusive copy.
 */
async function publishOnce(tmp: string, file: string): Promise<boolean> {
  try {
    await fs.link(tmp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  }
  try {
    await fs.copyFile(tmp, file, constants.COPYFILE_EXCL);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * The JWT signing secret: the configured one, else the one kept in `<data_dir>/jwt-secret`,
 * else a new random one written there (mode 0600) so tokens survive restarts. The config and
 * its file are never modified; callers put the returned secret into their runtime config.
 */
export async function resolveJwtSecret(
  config: AppConfig,
  opts: { logger?: { info(msg: string): void } } = {},
): Promise<ResolvedJwtSecret> {
  if (config.jwt.secret !== '') return { secret: config.jwt.secret, generated: false };

  const dir = config.server.data_dir;
  const file = path.join(dir, JWT_SECRET_FILE);
  const existing = await readSecretFile(file);
  if (existing !== undefined) {
    opts.logger?.info(`using the JWT secret stored in ${file}`);
    return { secret: existing, generated: false, file };
  }

  await fs.mkdir(dir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  const tmp = path.join(dir, `.${JWT_SECRET_FILE}.${process.pid}.${randomUUID()}.tmp`);
  await fs.writeFile(tmp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  let published: boolean;
  try {
    published = await publishOnce(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  if (!published) {
    const winner = await readSecretFile(file);
    if (winner === undefined) throw new Error(`${file} disappeared while it was being created`);
    opts.logger?.info(`using the JWT secret stored in ${file}`);
    return { secret: winner, generated: false, file };
  }
  opts.logger?.info(`generated a JWT secret and stored it in ${file} (mode 0600)`);
  return { secret, generated: true, file };
}
