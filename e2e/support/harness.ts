import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

import pino from 'pino';
import { type Browser, type BrowserContext, chromium, type Page, type WebSocket } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

import { loadConfig } from '../../apps/server/src/config/index.js';
import { type RunningServer, startServer } from '../../apps/server/src/main.js';
import { RELAXED_LIMITS_ENV } from '../../apps/server/test/support/app.js';
import type { ServiceAvailability } from '../../apps/server/test/support/services.js';
import { freePort } from '../../apps/server/test/server/ports.js';

export const CHROMIUM = process.env.ELIZABETH_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** The built app; `ELIZABETH_TEST_WEB_OUT` points the suite at another build (e.g. the one before a change). */
export const WEB_OUT =
  process.env.ELIZABETH_TEST_WEB_OUT ?? fileURLToPath(new URL('../../apps/web/out', import.meta.url));
/** `apps/web/server.mjs`: the standalone web server (port 4001 in the two-container deployment). */
export const STANDALONE_SERVER = fileURLToPath(new URL('../../apps/web/server.mjs', import.meta.url));
const STANDALONE_BUILD = fileURLToPath(
  new URL('../../apps/web/.next/standalone/apps/web/server.js', import.meta.url),
);
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

export const DESKTOP = { width: 1400, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface PageOptions {
  viewport?: { width: number; height: number };
  locale?: string;
  /** Turns the page's CSP off, to test the app's own defences alone. */
  bypassCSP?: boolean;
  colorScheme?: 'light' | 'dark';
  /** A touch screen: `(pointer: coarse)` and `(hover: none)` match. */
  hasTouch?: boolean;
  /** Browser permissions, e.g. clipboard-read and clipboard-write. */
  permissions?: string[];
}

export interface BrowserSuite {
  /** The real server of the suite (valid inside tests and hooks). */
  readonly server: E2EServer;
  /** A page in a new browser context: its own storage, so it enters a room as its own session. */
  newPage: (options?: PageOptions) => Promise<Page>;
}

/**
 * Registers hooks that start a real server (with `env` on top of the defaults) and Chromium for
 * the enclosing suite and close them after it.
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  let server: E2EServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    server = await startE2EServer(env);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('browserSuite: the server is not started yet');
      return server;
    },
    async newPage(options = {}) {
      if (!browser) throw new Error('browserSuite: the browser is not started yet');
      const context = await browser.newContext({
        viewport: options.viewport ?? DESKTOP,
        locale: options.locale ?? 'en-US',
        acceptDownloads: true,
        ...(options.bypassCSP ? { bypassCSP: true } : {}),
        ...(options.colorScheme ? { colorScheme: options.colorScheme } : {}),
        ...(options.hasTouch ? { hasTouch: true, isMobile: true } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      return page;
    },
  };
}

export interface RoomSuite extends BrowserSuite {
  /** A temp directory (removed after the suite) for files the tests write and upload. */
  readonly filesDir: string;
  /** Opens `room` (created first) and waits for its WebSocket; returns the frames received. */
  enterRoom: (page: Page, room: string) => Promise<string[]>;
}

/** {@link browserSuite} for room flows: also a temp directory for files and `enterRoom`. */
export function roomSuite(env: Record<string, string> = {}): RoomSuite {
  const suite = browserSuite(env);
  let files: ReturnType<typeof tempFiles> | undefined;
  beforeAll(() => {
    files = tempFiles();
  });
  afterAll(() => files?.remove());
  return {
    get server() {
      return suite.server;
    },
    newPage: suite.newPage,
    get filesDir() {
      if (!files) throw new Error('roomSuite: the files directory is made in beforeAll');
      return files.dir;
    },
    enterRoom: (page, room) => openRoom(page, suite.server.url, room),
  };
}

/** The entry names of a zip file, sorted (`unzip -Z1`). */
export function zipEntryNames(path: string): string[] {
  return execFileSync('unzip', ['-Z1', path], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();
}

/** The page's own errors (CSP violations show up here too); network 404s of probes are not errors. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
  });
  return errors;
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
    loadConfig({
      env: { PORT: String(port), WEB_ROOT: WEB_OUT, ...RELAXED_LIMITS_ENV, ...env },
      cwd: dir,
      homeDir: dir,
    }),
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

/** Browser tests of the standalone mode also need its build (`npm run build` makes both). */
export function standaloneAvailability(): ServiceAvailability {
  const browser = browserAvailability();
  if (!browser.available) return browser;
  if (!existsSync(STANDALONE_BUILD)) {
    return {
      available: false,
      reason: 'the standalone web build is missing (npm run build -w @elizabeth/web)',
    };
  }
  return { available: true };
}

export interface StandaloneServer {
  url: string;
  close(): Promise<void>;
}

/** `node apps/web/server.mjs` on a free loopback port (standing in for 4001), proxying to `backend`. */
export async function startStandaloneServer(backend: string): Promise<StandaloneServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [STANDALONE_SERVER], {
    env: {
      ...process.env,
      PORT: String(port),
      ELIZABETH_WEB_HOST: '127.0.0.1',
      ELIZABETH_BACKEND_URL: backend,
      NEXT_TELEMETRY_DISABLED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`standalone server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`standalone server exited with ${code}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A temp directory for files the tests upload; removed by the returned function. */
export function tempFiles(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'elz-e2e-files-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `size` random bytes to `dir/name`; returns the path and the SHA-256 (hex). */
export function writeRandomFile(dir: string, name: string, size: number): { path: string; sha256: string } {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, sha256: sha256(bytes) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real RGB PNG of `width`×`height` (a colour gradient). */
export function makePng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type: RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(1 + width * 3); // filter byte 0
    for (let x = 0; x < width; x += 1) {
      row[1 + x * 3] = Math.round((x / width) * 255);
      row[2 + x * 3] = Math.round((y / height) * 255);
      row[3 + x * 3] = 160;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid one-page PDF (correct xref offsets) with a black bar and a line of Helvetica text. */
export function makePdf(text: string): Buffer {
  const stream = `0 0 0 rg 72 640 300 60 re f BT /F1 28 Tf 72 580 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/**
 * Makes sure `room` exists (the API's zero-step GET): the web app no longer creates a room just
 * because its address was opened, it asks first.
 */
export async function ensureRoom(base: string, room: string): Promise<void> {
  const response = await fetch(`${base}/api/v1/rooms/${encodeURIComponent(room)}`);
  if (!response.ok) throw new Error(`GET /rooms/${room} → ${response.status} ${await response.text()}`);
}

/** A new session of `room` through the API (counts one entry), for checks made outside the browser. */
export async function apiSession(base: string, room: string, password?: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/rooms/${encodeURIComponent(room)}/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(password ? { password } : {}),
  });
  if (!response.ok) throw new Error(`POST /tokens → ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

export interface ApiContent {
  id: number;
  content_type: string;
  text: string | null;
  file_name: string | null;
  size: number | null;
}

export async function apiContents(base: string, room: string, token: string): Promise<ApiContent[]> {
  const response = await fetch(`${base}/api/v1/rooms/${encodeURIComponent(room)}/contents`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`GET /contents → ${response.status} ${await response.text()}`);
  const body = (await response.json()) as ApiContent[] | { items: ApiContent[] };
  return Array.isArray(body) ? body : body.items;
}

/** A one-shot upload (curl -F style) of one file by a session of `room`; answers 201. */
export async function apiUpload(
  base: string,
  room: string,
  token: string,
  name: string,
  bytes: Buffer,
): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const response = await fetch(`${base}/api/v1/rooms/${encodeURIComponent(room)}/contents`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  });
  if (response.status !== 201)
    throw new Error(`POST /contents → ${response.status} ${await response.text()}`);
}

/** SHA-256 and length of a stored content, downloaded through the API with the token in a header. */
export async function apiDownloadSha256(
  base: string,
  id: number,
  token: string,
): Promise<{ sha256: string; size: number }> {
  const response = await fetch(`${base}/api/v1/contents/${id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`GET /contents/${id} → ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { sha256: sha256(bytes), size: bytes.length };
}

/**
 * Opens `room` (created first through the API) and waits until its WebSocket has been
 * acknowledged; returns the frames the page receives.
 */
export async function openRoom(page: Page, base: string, room: string): Promise<string[]> {
  const frames: string[] = [];
  const acked = new Promise<void>((resolve) => {
    page.on('websocket', (ws: WebSocket) => {
      ws.on('framereceived', ({ payload }) => {
        const text = typeof payload === 'string' ? payload : payload.toString('utf8');
        frames.push(text);
        if (text.includes('"connect_ack"')) resolve();
      });
    });
  });
  await ensureRoom(base, room);
  await page.goto(`${base}/${encodeURIComponent(room)}`);
  await page.getByTestId('room-workspace').waitFor();
  await acked;
  return frames;
}

/** Posts a message through the composer and waits until it is sent (the composer empties). */
export async function postMessage(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-send').click();
  await expect.poll(() => page.getByTestId('composer-input').inputValue()).toBe('');
}

/** The row of a file or link in the files panel. */
export function fileItem(page: Page, name: string) {
  return page.locator('[data-testid^="file-item-"]').filter({ hasText: name });
}
