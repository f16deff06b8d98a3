import { constants } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

import type { BlobStorage } from './blob-storage.js';

/** Files under one directory on the local filesystem (the default backend). */
export class LocalStorage implements BlobStorage {
  readonly kind = 'local' as const;

  constructor(readonly root: string) {}

  /** The file of a key; keys are server-generated, the check only guards against bugs. */
  pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(resolve(this.root) + sep)) throw new Error(`storage key escapes the root: ${key}`);
    return path;
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK | constants.R_OK);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
