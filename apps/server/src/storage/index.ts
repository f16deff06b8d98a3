import type { AppConfig } from '../config/types.js';
import type { BlobStorage } from './blob-storage.js';
import { LocalStorage } from './local-storage.js';

export type { BlobStorage } from './blob-storage.js';
export { LocalStorage } from './local-storage.js';
export type { S3Storage } from './s3-storage.js';

/**
 * Chooses the storage backend once, at start. The S3 SDK (tens of MB of RSS) is loaded only
 * when the s3 backend is configured.
 */
export async function createStorage(config: AppConfig['storage']): Promise<BlobStorage> {
  if (config.backend === 'local') return new LocalStorage(config.root);
  const { S3Storage } = await import('./s3-storage.js');
  return new S3Storage(config.s3);
}
