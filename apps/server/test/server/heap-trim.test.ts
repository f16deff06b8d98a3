/**
 * The malloc-trim addon is built by `npm ci` (a C compiler is on every machine this runs on) and
 * hands the C heap's free pages back: a trim after start-up and after the last transfer keeps
 * the idle RSS down (issue 15).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { afterAll, describe, expect, it } from 'vitest';

import {
  PACE_BYTES,
  TRIM_AFTER_TRANSFERS_MS,
  beginTransfer,
  cancelHeapTrim,
  collectBeforeNextTrim,
  heapTrimAvailable,
  heapTrimState,
  noteTransferBytes,
  scheduleHeapTrim,
  trackTransfer,
} from '../../src/lib/heap-trim.js';
import { LocalStorage } from '../../src/storage/local-storage.js';
import { progressTap } from '../../src/storage/progress-tap.js';

const dir = mkdtempSync(join(tmpdir(), 'heap-trim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * V8's `gc`, exposed in this worker as the server's `--expose-gc` flag exposes it (as
 * `globalThis.gc`, where the pacing of transfers looks for it).
 */
const gc = (() => {
  const require = createRequire(import.meta.url);
  (require('node:v8') as { setFlagsFromString(flags: string): void }).setFlagsFromString('--expose-gc');
  const exposed = (require('node:vm') as { runInNewContext(code: string): unknown }).runInNewContext(
    'gc',
  ) as () => void;
  (globalThis as { gc?: unknown }).gc = exposed;
  return exposed;
})();

/** Resident set size of this process, in bytes. */
function rss(): number {
  return process.memoryUsage.rss();
}

describe('heap trim', () => {
  it('the addon is built and loads', () => {
    expect(heapTrimAvailable()).toBe(true);
  });

  it('gives freed C heap memory back to the system', async () => {
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

  describe('pacing of young collections while bytes move', () => {
    const young = () => heapTrimState().youngCollections;

    it('collects the young generation once every PACE_BYTES reported', () => {
      noteTransferBytes(PACE_BYTES); // whatever was counted before, the count restarts here
      const before = young();
      noteTransferBytes(PACE_BYTES - 1);
      expect(young()).toBe(before);
      noteTransferBytes(1);
      expect(young()).toBe(before + 1);
      for (let i = 0; i < 16; i++) noteTransferBytes(PACE_BYTES / 4);
      expect(young()).toBe(before + 5);
    });

    it('does nothing without an exposed gc (a plain `node`)', () => {
      const exposed = (globalThis as { gc?: unknown }).gc;
      delete (globalThis as { gc?: unknown }).gc;
      try {
        const before = young();
        noteTransferBytes(3 * PACE_BYTES);
        expect(young()).toBe(before);
      } finally {
        (globalThis as { gc?: unknown }).gc = exposed;
      }
    });

    it('the trim after paced transfers runs a full collection first (not a young one)', async () => {
      // Regression: Node 20's V8 ran `gc({ type: 'major' })` as a scavenge, which left the chunk
      // buffers promoted during a transfer (≈ 7–17 MiB after a 1 GiB multipart upload) in place.
      const kinds: number[] = [];
      let since = Infinity;
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          if (entry.startTime >= since)
            kinds.push((entry as unknown as { detail: { kind: number } }).detail.kind);
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      try {
        noteTransferBytes(PACE_BYTES);
        const { trims, fullCollections } = heapTrimState();
        // Only collections from here on: the pacing above may have run a full one itself.
        since = performance.now();
        const done = beginTransfer();
        done();
        await expect.poll(() => heapTrimState().trims, { timeout: 5000 }).toBe(trims + 1);
        expect(heapTrimState().fullCollections).toBe(fullCollections + 1);
        await expect.poll(() => kinds).toContain(perfConstants.NODE_PERFORMANCE_GC_MAJOR);
      } finally {
        observer.disconnect();
      }
    });

    it('a trim asked to collect first (as after start-up) runs one full collection, then trims', async () => {
      const { trims, fullCollections } = heapTrimState();
      collectBeforeNextTrim();
      scheduleHeapTrim(0);
      await expect.poll(() => heapTrimState().trims).toBe(trims + 1);
      expect(heapTrimState().fullCollections).toBe(fullCollections + 1);
    });

    it('runs a full collection instead when buffers held by the old generation pile up', () => {
      noteTransferBytes(PACE_BYTES);
      noteTransferBytes(PACE_BYTES); // whatever this worker held before is the reference now
      const { fullCollections, youngCollections } = heapTrimState();
      const held = Array.from({ length: 20 }, () => Buffer.alloc(1024 * 1024, 3));
      noteTransferBytes(PACE_BYTES);
      expect(heapTrimState()).toMatchObject({
        fullCollections: fullCollections + 1,
        youngCollections: youngCollections + 1,
      });
      // Still held, but no longer new: the next collections are young ones only.
      noteTransferBytes(PACE_BYTES);
      expect(heapTrimState().fullCollections).toBe(fullCollections + 1);
      expect(held).toHaveLength(20);
    });

    it('uploads, tus appends, downloads and taps report the bytes they move', async () => {
      const storage = new LocalStorage(dir);
      const big = () => Readable.from(Array.from({ length: 9 }, () => Buffer.alloc(1024 * 1024, 2)));
      let before = young();
      expect(await storage.put('rooms/2/paced.bin', big())).toBe(9 * 1024 * 1024);
      expect(young()).toBeGreaterThan(before);

      const tus = await storage.createTusStore({ expirationMs: 60_000 });
      const storeId = tus.storeIdOf('paced-test');
      await storage.put(storeId, Readable.from([]));
      before = young();
      expect(await tus.append(storeId, big(), 0)).toBe(9 * 1024 * 1024);
      expect(young()).toBeGreaterThan(before);

      before = young();
      let read = 0;
      // Piped, as the server sends a download (the count starts when the stream flows).
      await pipeline(
        await storage.read('rooms/2/paced.bin'),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            read += chunk.length;
            callback();
          },
        }),
      );
      expect(read).toBe(9 * 1024 * 1024);
      expect(young()).toBeGreaterThan(before);

      before = young();
      const tap = progressTap();
      let tapped = 0;
      tap.on('data', (chunk: Buffer) => (tapped += chunk.length));
      for (let i = 0; i < 9; i++) tap.write(Buffer.alloc(1024 * 1024));
      tap.end();
      await new Promise((resolve) => tap.once('end', resolve));
      expect(tapped).toBe(9 * 1024 * 1024);
      expect(young()).toBeGreaterThan(before);
      cancelHeapTrim();
    });
  });
});
