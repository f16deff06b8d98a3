/**
 * Issue 16 item 15: `--jwt-secret` puts the secret where every local user can read it (`ps`,
 * /proc/<pid>/cmdline). The flag still works, but the server warns when it is used (without
 * printing the secret); `JWT_SECRET_FILE` reads the secret from a file instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';

import { type CliOverrides, loadConfig } from '../../src/config/index.js';
import { startServer } from '../../src/main.js';
import { freePort } from '../server/ports.js';

const SECRET = 'flag-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const dir = mkdtempSync(join(tmpdir(), 'elz-secret-flag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LogLine {
  level: number;
  msg: string;
}

/** Starts and stops the server with these settings; returns its log lines. */
async function logsOf(name: string, cli: CliOverrides, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const dataDir = join(dir, name);
  const loaded = loadConfig({
    cli: { port: String(await freePort()), listenAddr: '127.0.0.1', ...cli },
    env: { DATA_DIR: dataDir, WEB_ROOT: join(dir, 'no-web'), ...env },
    cwd: dir,
    homeDir: dir,
  });
  const server = await startServer(loaded, { logger });
  await server.close();
  return {
    text: lines.join(''),
    lines: lines.map((l) => JSON.parse(l) as LogLine),
    secret: server.config.jwt.secret,
  };
}

const flagWarnings = (lines: LogLine[]) =>
  lines.filter((l) => l.level === 40 && l.msg.includes('--jwt-secret'));

describe('--jwt-secret', () => {
  it('works, and logs a warning that names the safer ways (never the secret)', async () => {
    const { text, lines, secret } = await logsOf('flag', { jwtSecret: SECRET });
    expect(secret).toBe(SECRET);
    const warnings = flagWarnings(lines);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/JWT_SECRET_FILE/);
    expect(text).not.toContain(SECRET);
  });

  it('no warning with JWT_SECRET, JWT_SECRET_FILE or the generated secret file', async () => {
    expect(flagWarnings((await logsOf('env', {}, { JWT_SECRET: SECRET })).lines)).toEqual([]);
    const file = join(dir, 'secret.txt');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const fromFile = await logsOf('file', {}, { JWT_SECRET_FILE: file });
    expect(fromFile.secret).toBe(SECRET);
    expect(flagWarnings(fromFile.lines)).toEqual([]);
    expect(flagWarnings((await logsOf('generated', {})).lines)).toEqual([]);
  });
});
