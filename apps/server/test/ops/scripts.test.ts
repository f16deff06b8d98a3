/**
 * OPERATIONS.md, "Scripts": every script is shellcheck-clean, strict, has --help and clear exit
 * statuses; deploy.sh refuses unusable secrets; restore.sh refuses damaged backups;
 * docker_prepare_volumes.sh prepares the directories and refuses a busy port.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { describeWithService } from '../support/services.js';
import { ROOT, SCRIPTS_DIR, hasCommand, run, runScript, scriptEnv, shellScripts } from './run.js';

const RUNNABLE = shellScripts().filter((f) => !f.startsWith('_'));
const REQUIRED = [
  'docker_prepare_volumes.sh',
  'deploy.sh',
  'backup.sh',
  'restore.sh',
  'migrate_to_postgres.sh',
  'smoke-images.sh',
];
const PLACEHOLDER = 'please-change-this-secret-in-production-min-32-chars-long-for-security';

describe('scripts/: conventions', () => {
  it('has every script OPERATIONS.md names', () => {
    for (const name of REQUIRED) expect(RUNNABLE, name).toContain(name);
  });

  it.each(RUNNABLE)(
    '%s: strict mode, executable, --help exits 0, an unknown option exits 2',
    async (name) => {
      const text = readFileSync(join(SCRIPTS_DIR, name), 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
      expect(text).toContain('set -euo pipefail');
      expect(statSync(join(SCRIPTS_DIR, name)).mode & 0o111).not.toBe(0);
      const help = await runScript(name, ['--help'], scriptEnv({}));
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/^Usage: scripts\//);
      expect(help.stdout).toMatch(/Exit status:/);
      const bad = await runScript(name, ['--no-such-option'], scriptEnv({}));
      expect(bad.code).toBe(2);
    },
  );
});

describeWithService(
  'shellcheck',
  hasCommand('shellcheck')
    ? { available: true }
    : { available: false, reason: 'shellcheck is not installed (apt-get install shellcheck)' },
  'scripts/: shellcheck',
  () => {
    it('finds nothing in any script, at the default severity (style included)', async () => {
      const files = shellScripts().map((f) => join('scripts', f));
      const result = await run('shellcheck', ['-x', '--source-path=SCRIPTDIR', ...files]);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    });
  },
);

describe('scripts/deploy.sh: refuses unusable secrets before touching anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-deploy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = join(dir, '.env');
  const deploy = () => runScript('deploy.sh', [], scriptEnv({ ELIZABETH_ENV_FILE: envFile }));

  it('without .env: copies .env.docker to .env (mode 0600) and stops with status 3', async () => {
    const result = await deploy();
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/created .*\.env from \.env\.docker; set JWT_SECRET/);
    expect(readFileSync(envFile, 'utf8')).toBe(readFileSync(join(ROOT, '.env.docker'), 'utf8'));
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['the unedited template', `JWT_SECRET=${PLACEHOLDER}`, /placeholder/],
    [
      'the placeholder with an inline comment',
      `JWT_SECRET=${PLACEHOLDER}  # pragma: allowlist secret`,
      /placeholder/,
    ],
    ['the placeholder quoted', `JWT_SECRET="${PLACEHOLDER}"`, /placeholder/],
    [
      'the shorter compose placeholder',
      'JWT_SECRET=please-change-this-secret-in-production-min-32-chars',
      /placeholder/,
    ],
    ['a short secret', 'JWT_SECRET=only-20-characters-x', /20 characters long; at least 32/],
    ['an empty secret', 'JWT_SECRET=', /not set/],
  ])('refuses %s (status 3, says how to make one)', async (_what, line, reason) => {
    writeFileSync(envFile, `BACKEND_PORT=4092\n${line}\n`);
    const result = await deploy();
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain('openssl rand -hex 32');
  });

  it('takes the last JWT_SECRET line and, with a good secret, goes on to check for Docker', async () => {
    writeFileSync(envFile, `JWT_SECRET=${PLACEHOLDER}\nJWT_SECRET=${randomBytes(24).toString('hex')}\n`);
    if (hasCommand('docker')) return; // would really deploy; the secret checks above are the point
    const result = await deploy();
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/docker is not installed/);
  });
});

/** A small deployment on disk: SQLite database, stored files, config; returns its env. */
function makeDeployment(dir: string): NodeJS.ProcessEnv {
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'storage/rooms/1'), { recursive: true });
  mkdirSync(join(dir, 'config'), { recursive: true });
  const db = new Database(join(dir, 'data/elizabeth.db'));
  db.prepare('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)').run([]);
  db.prepare("INSERT INTO t (v) VALUES ('one'), ('two')").run([]);
  db.close();
  writeFileSync(join(dir, 'storage/rooms/1/blob'), randomBytes(4096));
  writeFileSync(join(dir, 'config/backend.yaml'), 'app:\n  logging: { level: warn }\n');
  return scriptEnv({
    ELIZABETH_ENV_FILE: join(dir, 'none.env'),
    ELIZABETH_DATA_DIR: join(dir, 'data'),
    ELIZABETH_STORAGE_DIR: join(dir, 'storage'),
    ELIZABETH_BACKEND_CONFIG: join(dir, 'config/backend.yaml'),
    DATABASE_URL: `sqlite://${join(dir, 'data/elizabeth.db')}`,
    BACKUP_DIR: join(dir, 'backups'),
  });
}

describe('scripts/restore.sh: refuses damaged backups and changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-restore-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let env: NodeJS.ProcessEnv;
  let name: string;
  const backups = join(dir, 'backups');
  const file = (part: string) => join(backups, `${name}_${part}`);
  const restore = (...args: string[]) => runScript('restore.sh', ['--yes', '--no-restart', ...args], env);
  const rows = () => {
    const db = new Database(join(dir, 'data/elizabeth.db'), { readonly: true });
    try {
      return db.prepare('SELECT v FROM t ORDER BY id').all([]);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    env = makeDeployment(dir);
    const backup = await runScript('backup.sh', [], env);
    expect(backup.code, backup.stderr).toBe(0);
    name = backup.stdout.trim().split('\n').pop()!;
    expect(name).toMatch(/^elizabeth_backup_\d{8}_\d{6}$/);
    const db = new Database(join(dir, 'data/elizabeth.db'));
    db.prepare("INSERT INTO t (v) VALUES ('after the backup')").run([]);
    db.close();
  });

  it('writes the archives, an info file and checksums', () => {
    const files = readdirSync(backups).sort();
    expect(files).toEqual(
      ['config.tar.gz', 'data.tar.gz', 'info.txt', 'sha256.txt', 'storage.tar.gz'].map((p) => `${name}_${p}`),
    );
    expect(readFileSync(file('info.txt'), 'utf8')).toMatch(/database method: SQLite backup API/);
    expect(statSync(file('data.tar.gz')).mode & 0o077).toBe(0); // the data archive holds secrets
  });

  it('lists backups, and without a name prints usage and the list (status 2)', async () => {
    const list = await runScript('restore.sh', ['--list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout.trim()).toBe(name);
    const none = await runScript('restore.sh', [], env);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain(name);
  });

  it('refuses an unknown backup (status 3)', async () => {
    const result = await restore('elizabeth_backup_20000101_000000');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/sha256\.txt is missing/);
  });

  it('refuses an archive whose bytes changed (checksum), leaving the deployment as it was', async () => {
    const archive = file('storage.tar.gz');
    const original = readFileSync(archive);
    const damaged = Buffer.from(original);
    damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
    writeFileSync(archive, damaged);
    try {
      const result = await restore(name);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/checksums do not match; nothing was changed/);
      expect(rows()).toHaveLength(3);
    } finally {
      writeFileSync(archive, original);
    }
  });

  it('refuses a truncated archive even when its checksum was updated to match', async () => {
    const archive = file('data.tar.gz');
    const original = readFileSync(archive);
    const sums = readFileSync(file('sha256.txt'), 'utf8');
    writeFileSync(archive, original.subarray(0, Math.floor(original.length / 2)));
    const resum = await run('sh', [
      '-c',
      `cd '${backups}' && sha256sum ${name}_*.tar.gz > ${name}_sha256.txt`,
    ]);
    expect(resum.code).toBe(0);
    try {
      const result = await restore(name);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/data\.tar\.gz is not a valid gzip file/);
      expect(rows()).toHaveLength(3);
    } finally {
      writeFileSync(archive, original);
      writeFileSync(file('sha256.txt'), sums);
    }
  });

  it('refuses an archive with parent-directory paths', async () => {
    const evil = join(dir, 'evil');
    mkdirSync(join(evil, 'inner'), { recursive: true });
    writeFileSync(join(evil, 'escape'), 'x');
    const archive = file('storage.tar.gz');
    const original = readFileSync(archive);
    const sums = readFileSync(file('sha256.txt'), 'utf8');
    const made = await run('sh', [
      '-c',
      `tar -P -C '${join(evil, 'inner')}' -czf '${archive}' ../escape && cd '${backups}' && sha256sum ${name}_*.tar.gz > ${name}_sha256.txt`,
    ]);
    expect(made.code, made.stderr).toBe(0);
    try {
      const result = await restore(name);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/absolute or parent-directory paths/);
    } finally {
      writeFileSync(archive, original);
      writeFileSync(file('sha256.txt'), sums);
    }
  });

  it('asks before replacing anything: no "yes", no restore (status 1)', async () => {
    const result = await runScript('restore.sh', ['--no-restart', name], env, { input: 'no\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cancelled; nothing was changed/);
    expect(rows()).toHaveLength(3);
  });

  it('restores an intact backup: the row written after it is gone', async () => {
    const result = await restore(name);
    expect(result.code, result.stderr).toBe(0);
    expect(rows()).toEqual([{ v: 'one' }, { v: 'two' }]);
    expect(existsSync(join(dir, 'storage/rooms/1/blob'))).toBe(true);
  });
});

describe('scripts/backup.sh: retention', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-retention-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('deletes backups older than --keep-days and keeps newer ones', async () => {
    const env = makeDeployment(dir);
    const backups = join(dir, 'backups');
    mkdirSync(backups);
    const old = join(backups, 'elizabeth_backup_20000101_000000_data.tar.gz');
    const recent = join(backups, 'elizabeth_backup_20000102_000000_data.tar.gz');
    writeFileSync(old, 'old');
    writeFileSync(recent, 'recent');
    const day = 24 * 3600;
    const now = Date.now() / 1000;
    utimesSync(old, now - 9 * day, now - 9 * day);
    utimesSync(recent, now - 3 * day, now - 3 * day);
    const result = await runScript('backup.sh', ['--keep-days', '7'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(result.stderr).toContain('pruned');
    const bad = await runScript('backup.sh', ['--keep-days', 'soon'], env);
    expect(bad.code).toBe(2);
  });
});

describe('scripts/docker_prepare_volumes.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-prepare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (extra: Record<string, string> = {}) =>
    scriptEnv({
      ELIZABETH_ENV_FILE: join(dir, 'none.env'),
      ELIZABETH_DATA_DIR: join(dir, 'd/data'),
      ELIZABETH_STORAGE_DIR: join(dir, 'd/storage'),
      ELIZABETH_BACKEND_CONFIG: join(dir, 'd/config/backend.yaml'),
      BACKEND_PORT: '1',
      FRONTEND_PORT: '2',
      ...extra,
    });

  it('creates the directories, copies the default config and gives them to uid 1000', async () => {
    const result = await runScript('docker_prepare_volumes.sh', [], env());
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(join(dir, 'd/storage/rooms')).isDirectory()).toBe(true);
    expect(readFileSync(join(dir, 'd/config/backend.yaml'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'docker/backend/config/backend.yaml'), 'utf8'),
    );
    if (process.getuid?.() === 0) expect(statSync(join(dir, 'd/data')).uid).toBe(1000);
  });

  it('keeps an existing config file', async () => {
    writeFileSync(join(dir, 'd/config/backend.yaml'), 'app: {}\n');
    const result = await runScript('docker_prepare_volumes.sh', [], env());
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'd/config/backend.yaml'), 'utf8')).toBe('app: {}\n');
  });

  it('fails early (status 3) when the backend port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const result = await runScript('docker_prepare_volumes.sh', [], env({ BACKEND_PORT: String(port) }));
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`port ${port} (BACKEND_PORT) is already in use`);
      const skipped = await runScript(
        'docker_prepare_volumes.sh',
        ['--no-port-check'],
        env({ BACKEND_PORT: String(port) }),
      );
      expect(skipped.code).toBe(0);
    } finally {
      server.close();
    }
  });

  it('fails (status 3) when a process on the host holds the SQLite database open', async () => {
    if (!hasCommand('lsof')) return;
    const dbFile = join(dir, 'd/data/elizabeth.db');
    const holder = new Database(dbFile);
    holder.prepare('CREATE TABLE IF NOT EXISTS x (a)').run([]);
    try {
      const result = await runScript('docker_prepare_volumes.sh', [], env());
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/hold .*elizabeth\.db open/);
    } finally {
      holder.close();
    }
  });
});
