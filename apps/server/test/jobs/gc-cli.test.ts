import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { createDatabase, migrateToLatest } from '../../src/db/index.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));

describe('elizabeth gc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-gc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs one pass and prints the counts', async () => {
    const dbUrl = `sqlite://${join(dir, 'gc.db')}`;
    const { config } = loadConfig({ env: { DATABASE_URL: dbUrl }, cwd: dir, homeDir: dir });
    const database = await createDatabase({ ...config.database, url: dbUrl });
    await migrateToLatest(database, { backup: false });
    const past = Date.now() - 60_000;
    await database.db
      .insertInto('rooms')
      .values({
        name: 'gone',
        slug: 'gone',
        password_hash: null,
        permission: 15,
        max_size: 1000,
        max_times_entered: 10,
        expire_at: past,
        share_disabled_at: null,
        created_at: past - 60_000,
        updated_at: past,
      })
      .execute();
    await database.close();

    const output = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'gc', '--db-url', dbUrl], {
        env: { PATH: process.env.PATH, HOME: dir },
        cwd: dir,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(output.code, output.stderr).toBe(0);
    expect(output.stdout).toContain('expired_rooms: 1');
    expect(output.stdout).toMatch(/blobs_deleted: 0\n/);
  });
});
