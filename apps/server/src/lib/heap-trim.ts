import { createRequire } from 'node:module';

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

/** Trims `delayMs` from now unless asked again before (the last call's delay counts). */
export function scheduleHeapTrim(delayMs: number): void {
  cancelHeapTrim();
  if (loadTrim() === null) return;
  pending = setTimeout(() => {
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
 * Marks a file transfer under way (an upload into storage, a download out of it); the function
 * returned marks it done (once; later calls do nothing). A second after the last one ends, the
 * C heap is trimmed. Nothing runs per chunk.
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

/** Marks a transfer under way until `stream` closes (ends, fails or is destroyed). */
export function trackTransfer<S extends NodeJS.EventEmitter>(stream: S): S {
  stream.once('close', beginTransfer());
  return stream;
}

/** For tests: trims run so far, and whether one is scheduled. */
export function heapTrimState(): { trims: number; scheduled: boolean; transfers: number } {
  return { trims, scheduled: pending !== undefined, transfers };
}
