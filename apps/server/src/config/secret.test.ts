import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { defaultConfig } from './defaults.js';
import { ConfigError } from './errors.js';
import { JWT_SECRET_FILE, resolveJwtSecret } from './secret.js';
import type { AppConfig } from './types.js';
import { PLACEHOLDER_JWT_SECRETS } from './validate.js';

const cleanups: string[] = [];
afterEach(() => {
  for (const dir of cleanups.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function configIn(dataDir?: string, secret = ''): AppConfig {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'elizabeth-secret-'));
  cleanups.push(root);
  const config = defaultConfig();
  config.server.data_dir = dataDir ?? path.join(root, 'nested', 'data');
  config.jwt.secret = secret;
  return config;
}

describe('resolveJwtSecret', () => {
  it('uses a configured secret without touching the data dir', async () => {
    const config = configIn(undefined, 's'.repeat(40));
    const result = await resolveJwtSecret(config);
    expect(result).toEqual({ secret: 's'.repeat(40), generated: false });
    expect(fs.existsSync(config.server.data_dir)).toBe(false);
  });

  it('generates a secret in <data_dir>/jwt-secret with mode 0600, creating the directory', async () => {
    const config = configIn();
    const messages: string[] = [];
    const result = await resolveJwtSecret(config, { logger: { info: (m) => messages.push(m) } });
    const file = path.join(config.server.data_dir, JWT_SECRET_FILE);
    expect(result.generated).toBe(true);
    expect(result.file).toBe(file);
    expect(result.secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(result.secret);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(messages.join('\n')).toContain(file);
    expect(messages.join('\n')).not.toContain(result.secret);
    expect(config.jwt.secret).toBe('');
    expect(fs.readdirSync(config.server.data_dir)).toEqual([JWT_SECRET_FILE]);
  });

  it('reuses the stored secret on the next start', async () => {
    const config = configIn();
    const first = await resolveJwtSecret(config);
    const second = await resolveJwtSecret(config);
    expect(second).toEqual({ secret: first.secret, generated: false, file: first.file });
  });

  it('generates different secrets for different data dirs', async () => {
    const a = await resolveJwtSecret(configIn());
    const b = await resolveJwtSecret(configIn());
    expect(a.secret).not.toBe(b.secret);
  });

  it('ends with one secret when several processes start at once', async () => {
    const config = configIn();
    const results = await Promise.all(Array.from({ length: 8 }, () => resolveJwtSecret(config)));
    expect(new Set(results.map((r) => r.secret)).size).toBe(1);
    expect(results.filter((r) => r.generated)).toHaveLength(1);
    expect(fs.readFileSync(path.join(config.server.data_dir, JWT_SECRET_FILE), 'utf8').trim()).toBe(
      results[0]!.secret,
    );
    expect(fs.readdirSync(config.server.data_dir)).toEqual([JWT_SECRET_FILE]);
  });

  it.each([
    ['a short secret', 'too-short'],
    ['a placeholder', PLACEHOLDER_JWT_SECRETS[0]!],
    ['an empty file', ''],
  ])('refuses %s in the stored file', async (_, content) => {
    const config = configIn();
    fs.mkdirSync(config.server.data_dir, { recursive: true });
    const file = path.join(config.server.data_dir, JWT_SECRET_FILE);
    fs.writeFileSync(file, `${content}\n`, { mode: 0o600 });
    const error = await resolveJwtSecret(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`app.jwt.secret (file ${file})`);
    expect((error as ConfigError).message).toContain('openssl rand -hex 32');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${content}\n`);
  });

  it('reads a stored secret written by hand, ignoring surrounding whitespace', async () => {
    const config = configIn();
    fs.mkdirSync(config.server.data_dir, { recursive: true });
    fs.writeFileSync(path.join(config.server.data_dir, JWT_SECRET_FILE), `  ${'h'.repeat(48)}\n\n`);
    expect((await resolveJwtSecret(config)).secret).toBe('h'.repeat(48));
  });
});
