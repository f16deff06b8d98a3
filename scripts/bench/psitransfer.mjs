// The peer: PsiTransfer (github.com/psi-4ward/psitransfer, a self-hosted Node file-sharing server
// with a tus upload API; not on npm), checked out and installed OUTSIDE this repository. Found at
// $ELIZABETH_BENCH_PSITRANSFER (its app.js or the directory holding it), else /tmp/psitransfer
// (see docs/BENCHMARKS.md). It runs as shipped (`NODE_ENV=production node app.js`, its access log
// on) on 127.0.0.1 with a fresh upload dir. Uploads are its tus endpoint POST /files (metadata
// name, sid = the bucket, retention) followed by PATCHes of the created upload; downloads
// GET /files/<sid>++<key>, the same URL.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, spawnNode, waitForHttp } from './lib.mjs';
import { chunkedUpload } from './transfers.mjs';

export const PSITRANSFER_INSTALL =
  'git clone https://github.com/psi-4ward/psitransfer /tmp/psitransfer && npm install --omit=dev --prefix /tmp/psitransfer';

/** PsiTransfer's app.js, or an explanation of why there is none. */
export function locatePsiTransfer() {
  const configured = process.env.ELIZABETH_BENCH_PSITRANSFER;
  const candidates = configured ? [configured, join(configured, 'app.js')] : ['/tmp/psitransfer/app.js'];
  const found = candidates.find(
    (path) =>
      existsSync(path) && statSync(path).isFile() && existsSync(join(path, '../node_modules/express')),
  );
  if (found) return { path: found };
  return {
    reason: `PsiTransfer not found or not installed (looked at ${candidates.join(', ')}); install it outside the repository with \`${PSITRANSFER_INSTALL}\` or set ELIZABETH_BENCH_PSITRANSFER`,
  };
}

/** Starts PsiTransfer with its upload dir under `dir`; resolves once its /config.json answers. */
export async function startPsiTransfer(appJs, dir) {
  const port = await freePort();
  const uploadDir = join(dir, 'data');
  mkdirSync(uploadDir, { recursive: true });
  const handle = spawnNode([appJs], {
    cwd: join(appJs, '..'),
    logFile: join(dir, 'psitransfer.log'),
    env: {
      NODE_ENV: 'production',
      PSITRANSFER_IFACE: '127.0.0.1',
      PSITRANSFER_PORT: String(port),
      PSITRANSFER_UPLOAD_DIR: uploadDir,
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/config.json`, { timeoutMs: 60_000, exited: handle.exited });
  return { handle, base, uploadDir };
}

const b64 = (text) => Buffer.from(text).toString('base64');

/**
 * A tus upload of `size` bytes of `file` to PsiTransfer in `chunkBytes` PATCHes (the same client
 * as ours); resolves with the download URL of the stored file.
 */
export async function psiTransferUpload(psi, file, size, chunkBytes, { bucket, name }) {
  const location = await chunkedUpload(
    {
      createUrl: `${psi.base}/files`,
      createHeaders: {
        'tus-resumable': '1.0.0',
        'upload-length': String(size),
        'upload-metadata': `name ${b64(name)},sid ${b64(bucket)},retention ${b64('3600')}`,
      },
      patchHeaders: {},
      tus: true,
    },
    file,
    size,
    chunkBytes,
  );
  // The upload URL is also the file's download URL (its GET handler serves completed uploads).
  return location;
}

/** Frees the disk after a round: PsiTransfer keeps `<key>` and `<key>.json` per file. */
export function clearPsiTransfer(psi) {
  rmSync(psi.uploadDir, { recursive: true, force: true });
  mkdirSync(psi.uploadDir, { recursive: true });
}
