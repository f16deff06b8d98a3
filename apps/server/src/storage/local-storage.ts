import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';

import type { BlobStorage } from './blob-storage.js';

/** Files under one directory on the local filesystem (the default backend). */
export class LocalStorage implements BlobStorage {
  readonly kind = 'local' as const;

  constructor(readonly root: string) {}

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK | constants.R_OK);
  }
}
