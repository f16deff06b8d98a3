/**
 * What the client keeps about its uploads, one small file per file being uploaded, in the
 * cache directory (0700 directories, 0600 files, written to a temporary name and renamed):
 *
 * - `uploads/<fingerprint>.json`: the tus upload of an unfinished file (tus-js-client's
 *   `UrlStorage`), found again by the next run of the same command;
 * - `pushed/<fingerprint>`: a file this cache saw finish, so a re-run skips it.
 *
 * One file per upload needs no lock, so parallel uploads and concurrent runs never wait for or
 * overwrite each other (tus-js-client's own file storage keeps one JSON file under a lock that
 * a killed process can leave held).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { PreviousUpload, UrlStorage } from 'tus-js-client';

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

const isKey = (key: string) => /^[0-9a-f]{64}$/.test(key);

export class UploadUrlStorage implements UrlStorage {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'uploads');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  findAllUploads(): Promise<PreviousUpload[]> {
    const keys = readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
    return Promise.resolve(keys.flatMap((key) => this.read(key)));
  }

  findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return Promise.resolve(isKey(fingerprint) ? this.read(fingerprint) : []);
  }

  removeUpload(urlStorageKey: string): Promise<void> {
    if (isKey(urlStorageKey)) rmSync(join(this.dir, `${urlStorageKey}.json`), { force: true });
    return Promise.resolve();
  }

  addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    if (!isKey(fingerprint)) return Promise.reject(new Error(`not a fingerprint: ${fingerprint}`));
    writeAtomically(join(this.dir, `${fingerprint}.json`), JSON.stringify(upload));
    return Promise.resolve(fingerprint);
  }

  private read(key: string): PreviousUpload[] {
    try {
      const upload = JSON.parse(readFileSync(join(this.dir, `${key}.json`), 'utf8')) as PreviousUpload;
      return [{ ...upload, urlStorageKey: key }];
    } catch {
      return [];
    }
  }
}

export class FinishedUploads {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'pushed');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  has(fingerprint: string): boolean {
    try {
      readFileSync(join(this.dir, fingerprint));
      return true;
    } catch {
      return false;
    }
  }

  add(fingerprint: string): void {
    writeAtomically(join(this.dir, fingerprint), new Date().toISOString());
  }
}
