import type { AppConfig } from '../config/types.js';
import type { BlobStorage } from './blob-storage.js';
import { LocalStorage } from './local-storage.js';

export type { BlobStorage } from './blob-storage.js';
export { LocalStorage } from './local-storage.js';

/** Chooses the storage backend once, at start. */
export function createStorage(config: AppConfig['storage']): BlobStorage {
  if (config.backend === 'local') return new LocalStorage(config.root);
  throw new Error(
    'app.storage.backend "s3" is not available in this build yet; use "local" (see docs/DEPLOYMENT.md)',
  );
}
