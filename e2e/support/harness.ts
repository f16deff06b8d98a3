import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pino from 'pino';
import { type Browser, chromium } from 'playwright-core';

import { loadConfig } from '../../apps/server/src/config/index.js';
import { type RunningServer, startServer } from '../../apps/server/src/main.js';
import type { ServiceAvailability } from '../../apps/server/test/support/services.js';
import { freePort } from '../../apps/server/test/server/ports.js';

export const CHROMIUM = process.env.ELIZABETH_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const WEB_OUT = fileURLToPath(new URL('../../apps/web/out', import.meta.url));
/** Screenshots for people to look at; git-ignored. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/screenshots', import.meta.url));

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Browser tests need Debian's Chromium and a built web app. */
export function browserAvailability(): ServiceAvailability {
  if (!existsSync(CHROMIUM))
    return { available: false, reason: `no Chromium at ${CHROMIUM} (apt-get install chromium)` };
  if (!existsSync(join(WEB_OUT, 'index.html'))) {
    return { available: false, reason: 'the web app is not built (npm run build -w @elizabeth/web)' };
  }
  return { available: true };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}

export interface E2EServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  close(): Promise<void>;
}

/** The real server on a free loopback port, a fresh data directory, serving the built app. */
export async function startE2EServer(env: Record<string, string> = {}): Promise<E2EServer> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-e2e-'));
  const port = await freePort();
  const server = await startServer(
    loadConfig({ env: { PORT: String(port), WEB_ROOT: WEB_OUT, ...env }, cwd: dir, homeDir: dir }),
    { logger: pino({ level: 'silent' }) },
  );
  return {
    url: server.url,
    server,
    dataDir: join(dir, 'data'),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, `${name}.png`);
}
