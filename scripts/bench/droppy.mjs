// The peer: droppy (npm `droppy`, a self-hosted Node file server), installed OUTSIDE this
// repository. Found at $ELIZABETH_BENCH_DROPPY (its droppy.js, or the --prefix it was installed
// with), else /tmp/droppy (see docs/BENCHMARKS.md). It runs in public mode (no accounts) on
// 127.0.0.1, hosted by droppy-host.mjs; uploads are its multipart POST /!/upload, downloads
// GET /!/dl/<path>.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { freePort, spawnNode, waitForHttp } from './lib.mjs';
import { multipartUpload } from './transfers.mjs';

export const DROPPY_INSTALL = 'npm install --prefix /tmp/droppy droppy@10.0.0';

/** The droppy.js to run, or an explanation of why there is none. */
export function locateDroppy() {
  const configured = process.env.ELIZABETH_BENCH_DROPPY;
  const candidates = configured
    ? [configured, join(configured, 'droppy.js'), join(configured, 'node_modules/droppy/droppy.js')]
    : ['/tmp/droppy/node_modules/droppy/droppy.js'];
  const found = candidates.find((path) => existsSync(path) && statSync(path).isFile());
  if (found) return { path: found };
  return {
    reason: `droppy not found (looked at ${candidates.join(', ')}); install it outside the repository with \`${DROPPY_INSTALL}\` or set ELIZABETH_BENCH_DROPPY`,
  };
}

/** Starts droppy in public mode with its config and files under `dir`. */
export async function startDroppy(droppyJs, dir) {
  const port = await freePort();
  const configDir = join(dir, 'config');
  const filesDir = join(dir, 'files');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(filesDir, { recursive: true });
  writeFileSync(
    join(configDir, 'config.json'),
    JSON.stringify({
      listeners: [{ host: '127.0.0.1', port, protocol: 'http' }],
      public: true,
      watch: false,
      logLevel: 2,
    }),
  );
  const host = fileURLToPath(new URL('./droppy-host.mjs', import.meta.url));
  const handle = spawnNode([host, droppyJs, String(port), configDir, filesDir], {
    cwd: dir,
    logFile: join(dir, 'droppy.log'),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/`, { timeoutMs: 60_000, exited: handle.exited });
  return { handle, base, filesDir };
}

/** droppy answers an upload when its parser is done, not when the file is written: wait for that too. */
export async function waitForFile(path, size, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(path) && statSync(path).size === size) return;
    if (Date.now() > deadline) throw new Error(`droppy did not write ${path} (${size} bytes) in time`);
    await sleep(2);
  }
}

/**
 * A multipart upload of `file` to droppy's root, timed until the file on disk has every byte;
 * resolves with its download URL.
 */
export async function droppyUpload(droppy, file, size, name) {
  await multipartUpload(
    `${droppy.base}/!/upload?vId=0&to=${encodeURIComponent('/')}`,
    {},
    file,
    size,
    name,
    [200],
  );
  await waitForFile(join(droppy.filesDir, name), size);
  return `${droppy.base}/!/dl/${encodeURIComponent(name)}`;
}

/** Frees the disk after a round. */
export function clearDroppy(droppy) {
  rmSync(droppy.filesDir, { recursive: true, force: true });
  mkdirSync(droppy.filesDir, { recursive: true });
}
