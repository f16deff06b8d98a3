import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { startServer } from '../../src/main.js';
import { freePort } from './ports.js';

describe('startServer on the embedded defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the SQLite file and a 0600 secret under ./data, serves health, and reuses the secret', async () => {
    const port = await freePort();
    const load = () => loadConfig({ env: { PORT: String(port) }, cwd: dir, homeDir: dir });
    const logger = pino({ level: 'silent' });

    const first = await startServer(load(), { logger });
    try {
      expect(first.url).toBe(`http://127.0.0.1:${port}`);
      const health = await fetch(`${first.url}/api/v1/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
    } finally {
      await first.close();
    }

    const dbFile = join(dir, 'data', 'elizabeth.db');
    const secretFile = join(dir, 'data', 'jwt-secret');
    expect(statSync(dbFile).size).toBeGreaterThan(0);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(first.config.jwt.secret).toBe(secret);

    const second = await startServer(load(), { logger });
    try {
      expect(second.config.jwt.secret).toBe(secret);
      expect((await fetch(`${second.url}/api/v1/status`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
