/**
 * The malloc-trim addon is built by `npm ci` (a C compiler is on every machine this runs on) and
 * hands the C heap's free pages back: a trim after start-up and after the last transfer keeps
 * the idle RSS down (issue 15).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import {
  TRIM_AFTER_TRANSFERS_MS,
  beginTransfer,
  cancelHeapTrim,
  heapTrimAvailable,
  heapTrimState,
  scheduleHeapTrim,
  trackTransfer,
} from '../../src/lib/heap-trim.js';
import { LocalStorage } from '../../src/storage/local-storage.js';

const dir = mkdtempSync(join(tmpdir(), 'heap-trim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident set size of this process, in bytes. */
function rss(): number {
  return process.memoryUsage.rss();
}

describe('heap trim', () => {
  it('the addon is built and loads', () => {
    expect(heapTrimAvailable()).toBe(true);
  });

  it('gives freed C heap memory back to the system', async () => {
    const require = createRequire(import.meta.url);
    (require('node:v8') as { setFlagsFromString(flags: string): void }).setFlagsFromString('--expose-gc');
    const gc = (require('node:vm') as { runInNewContext(code: string): unknown }).runInNewContext(
      'gc',
    ) as () => void;
    // 64 MB in blocks under glibc's mmap threshold (so on its heap), then all freed but the last:
    // the one kept stops glibc from giving back the free space below it, until a trim.
    const blocks = Array.from({ length: 4000 }, () => Buffer.allocUnsafeSlow(16 * 1024).fill(1));
    const keep = blocks.pop();
    blocks.length = 0;
    gc();
    await sleep(100);
    const before = rss();
    const { trims } = heapTrimState();
    scheduleHeapTrim(0);
    await expect.poll(() => heapTrimState().trims).toBe(trims + 1);
    const released = before - rss();
    expect(keep?.length).toBe(16 * 1024);
    expect(released).toBeGreaterThan(32 * 1000 * 1000);
  });

  it('a trim scheduled again replaces the first; a cancelled one does not run', async () => {
    const { trims } = heapTrimState();
    scheduleHeapTrim(30);
    scheduleHeapTrim(60);
    expect(heapTrimState().scheduled).toBe(true);
    await sleep(150);
    expect(heapTrimState().trims).toBe(trims + 1);
    scheduleHeapTrim(30);
    cancelHeapTrim();
    await sleep(80);
    expect(heapTrimState()).toMatchObject({ trims: trims + 1, scheduled: false });
  });

  it('runs once the last transfer has ended, not while one runs', async () => {
    const { trims } = heapTrimState();
    const first = beginTransfer();
    const second = beginTransfer();
    first();
    await sleep(TRIM_AFTER_TRANSFERS_MS + 100);
    expect(heapTrimState().trims).toBe(trims);
    second();
    expect(heapTrimState().scheduled).toBe(true);
    await sleep(TRIM_AFTER_TRANSFERS_MS + 100);
    expect(heapTrimState().trims).toBe(trims + 1);
  });

  it('a tracked stream counts as a transfer until it closes, also when it fails', async () => {
    const ok = trackTransfer(Readable.from([Buffer.alloc(10)]));
    const failing = trackTransfer(new Readable({ read() {} }));
    expect(heapTrimState().transfers).toBe(2);
    ok.resume();
    failing.on('error', () => undefined).destroy(new Error('gone'));
    await expect.poll(() => heapTrimState().transfers).toBe(0);
    expect(heapTrimState().scheduled).toBe(true);
    cancelHeapTrim();
  });

  it('local storage marks uploads, tus appends and downloads as transfers', async () => {
    const storage = new LocalStorage(dir);
    const during: number[] = [];
    const source = (bytes: number) =>
      new Readable({
        read() {
          during.push(heapTrimState().transfers);
          this.push(Buffer.alloc(bytes, 1));
          this.push(null);
        },
      });
    expect(await storage.put('rooms/1/a.bin', source(1024))).toBe(1024);
    const tus = await storage.createTusStore({ expirationMs: 60_000 });
    const storeId = tus.storeIdOf('trim-test');
    await storage.put(storeId, Readable.from([]));
    expect(await tus.append(storeId, source(512), 0)).toBe(512);
    expect(during).toEqual([1, 1]);
    expect(heapTrimState().transfers).toBe(0);

    const download = await storage.read('rooms/1/a.bin');
    expect(heapTrimState().transfers).toBe(1);
    const chunks: Buffer[] = [];
    for await (const chunk of download) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toHaveLength(1024);
    await expect.poll(() => heapTrimState().transfers).toBe(0);
    await expect(storage.read('rooms/1/missing.bin')).rejects.toThrow();
    await expect.poll(() => heapTrimState().transfers).toBe(0);
    cancelHeapTrim();
  });
});
