import { createRequire } from 'node:module';
import { getHeapStatistics } from 'node:v8';

/**
 * Returns the C heap's free pages to the system (glibc `malloc_trim`, through the optional
 * `@elizabeth/malloc-trim` addon). Start-up and transfers free many megabytes of malloc memory
 * (module source buffers, compiler memory, socket and file read buffers) that glibc keeps in the
 * middle of its heap; it gives back only a free top. One trim a second after start-up takes the
 * idle RSS 30 s after start from ≈ 83–84 to ≈ 79–80 MB, and one a second after the last transfer
 * ends brings the RSS back down after big files (docs/BENCHMARKS.md, issue 15). A trim takes
 * 0.5–7 ms and runs only when the server is quiet. Without the addon (not built: no C compiler
 * at install time) or outside glibc this does nothing.
 */
let trim: (() => boolean) | null | undefined;

function loadTrim(): (() => boolean) | null {
  if (trim !== undefined) return trim;
  try {
    const addon = createRequire(import.meta.url)('@elizabeth/malloc-trim') as { trim?: () => boolean };
    trim = addon.trim ?? null;
  } catch {
    trim = null;
  }
  return trim;
}

/** Whether trimming is available here (the addon was built, glibc or not). */
export function heapTrimAvailable(): boolean {
  return loadTrim() !== null;
}

let pending: NodeJS.Timeout | undefined;
let trims = 0;

/**
 * Set when a transfer's bytes were paced since the last trim: the old generation then holds
 * chunk buffers that lived through two young collections (in flight at both), which only a
 * full collection frees; it runs just before that trim, once the server is quiet.
 */
let collectBeforeTrim = false;
/** V8's external memory right after the last full collection (see `PROMOTED_LIMIT_BYTES`). */
let externalAfterFull = 0;
/** Time between that full collection and the trim: V8 frees dead buffers on a helper thread. */
const SWEEP_MS = 100;

/** Makes the next trim run a full collection first (when `gc` is exposed). */
export function collectBeforeNextTrim(): void {
  collectBeforeTrim = true;
}

/** Trims `delayMs` from now unless asked again before (the last call's delay counts). */
export function scheduleHeapTrim(delayMs: number): void {
  cancelHeapTrim();
  if (loadTrim() === null) return;
  pending = setTimeout(() => {
    const gc = collectGarbage();
    if (collectBeforeTrim && gc) {
      collectBeforeTrim = false;
      gc(); // a full collection: Node 20's V8 reads `{ type: 'major' }` as a young one
      fullCollections += 1;
      externalAfterFull = getHeapStatistics().external_memory;
      scheduleHeapTrim(SWEEP_MS);
      return;
    }
    pending = undefined;
    trims += 1;
    trim?.();
  }, delayMs);
  pending.unref();
}

/** Drops a trim scheduled and not yet run (work has started again). */
export function cancelHeapTrim(): void {
  if (pending === undefined) return;
  clearTimeout(pending);
  pending = undefined;
}

/** How long the process stays without transfers before its free C heap is trimmed. */
export const TRIM_AFTER_TRANSFERS_MS = 1000;

let transfers = 0;

/**
 * Young-generation pacing while bytes move. Every chunk of a transfer is a fresh Buffer outside
 * V8's heap (Node's HTTP parser copies each request body chunk; file reads allocate theirs), and
 * V8 collects them only once 32 MiB of such young buffers have piled up: a 1 GiB upload or
 * download raised the RSS by ≈ 32 MiB of dead buffers, on our server as on a bare `node:http`
 * one. The transfer paths report the bytes they move (`noteTransferBytes`); every `PACE_BYTES`
 * of them, a young-generation collection runs (≈ 0.3–0.5 ms, against ≈ 20 ms of CPU to move
 * 8 MiB). It needs `gc`, which the server's `--expose-gc` flag exposes; under a plain `node`
 * nothing is paced. In `npm run bench` (1 GiB × 3 rounds, same hour) the peak RSS through the
 * transfers went from 131 to 111 MB, server CPU per MiB unchanged or lower (tus 3.65 → 3.28
 * ms/MiB); docs/BENCHMARKS.md, issue 15. (A timer checking V8's external
 * memory instead fired only every 20–30 ms during a fast transfer: the event loop's turns are
 * that long then, and 15 MiB piled up between them.)
 */
export const PACE_BYTES = 8 * 1024 * 1024;
let sincePaced = 0;
let youngCollections = 0;
let fullCollections = 0;
type CollectGarbage = (options?: { type: 'minor' }) => void;

/** V8's `gc`, when the process was started with `--expose-gc`. */
function collectGarbage(): CollectGarbage | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as CollectGarbage) : undefined;
}

/**
 * External memory (array buffers outside V8's heap) left after a young collection above which
 * the pacing runs a full collection instead. Left after a young one means held by the old
 * generation: chunk buffers promoted because they were in flight at two young collections (a
 * one-shot multipart upload promotes some at most collections, busboy holding slices of the
 * last chunks). Without this they pile up until V8's next full collection, and the peak grew
 * with the file: 1 GiB one-shot 107–111 MB, 4 GiB 130 MB.
 */
export const PROMOTED_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Counts bytes a transfer moved; runs a young-generation collection every `PACE_BYTES`, and a
 * full one when promoted buffers have piled up (`PROMOTED_LIMIT_BYTES`).
 */
export function noteTransferBytes(bytes: number): void {
  sincePaced += bytes;
  if (sincePaced < PACE_BYTES) return;
  sincePaced = 0;
  const gc = collectGarbage();
  if (!gc) return;
  gc({ type: 'minor' });
  youngCollections += 1;
  collectBeforeTrim = true;
  const external = getHeapStatistics().external_memory;
  if (external - externalAfterFull < PROMOTED_LIMIT_BYTES) return;
  gc();
  fullCollections += 1;
  externalAfterFull = getHeapStatistics().external_memory;
}

/**
 * Marks a file transfer under way (an upload into storage, a download out of it); the function
 * returned marks it done (once; later calls do nothing). A second after the last one ends, the C
 * heap is trimmed.
 */
export function beginTransfer(): () => void {
  transfers += 1;
  cancelHeapTrim();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    transfers -= 1;
    if (transfers === 0) scheduleHeapTrim(TRIM_AFTER_TRANSFERS_MS);
  };
}

/**
 * Marks a transfer under way until `stream` closes (ends, fails or is destroyed), and reports
 * the bytes it yields once something consumes it in flowing mode (`pipe`: a `data` listener
 * added before that would start the stream too early).
 */
export function trackTransfer<S extends NodeJS.ReadableStream>(stream: S): S {
  stream.once('close', beginTransfer());
  stream.once('resume', () => stream.on('data', countChunk));
  return stream;
}

/** Reports a chunk of a transfer (a `data` listener). */
export function countChunk(chunk: { length: number }): void {
  noteTransferBytes(chunk.length);
}

/** For tests: trims run so far, whether one is scheduled, transfers under way, paced collections. */
export function heapTrimState(): {
  trims: number;
  scheduled: boolean;
  transfers: number;
  youngCollections: number;
  fullCollections: number;
} {
  return { trims, scheduled: pending !== undefined, transfers, youngCollections, fullCollections };
}
