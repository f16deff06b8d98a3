import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import type { AppConfig } from '../../src/config/types.js';
import { s3ClientConfig } from '../../src/storage/s3-storage.js';
import type { TestS3 } from './s3.js';

type S3Settings = AppConfig['storage']['s3'];

/** Every object of the bucket under the storage prefix (keys relative to it) with its size. */
export async function bucketObjects(settings: S3Settings): Promise<Map<string, number>> {
  const client = new S3Client(s3ClientConfig(settings));
  try {
    const objects = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: settings.bucket,
          Prefix: settings.prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? []) objects.set(o.Key!.slice(settings.prefix.length), o.Size ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  } finally {
    client.destroy();
  }
}

/**
 * Every stored object, as the backend itself shows it (not through BlobStorage): files under
 * the local root, or objects of the bucket under the prefix; keys relative to either, sorted.
 */
export async function storedObjects(storage: AppConfig['storage'], s3?: S3Settings): Promise<string[]> {
  if (s3) return [...(await bucketObjects(s3)).keys()].sort();
  const root = storage.root;
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

/**
 * The bucket's objects, and its open multipart uploads as `<key>.partial` (size 0): a write in
 * progress, like a local temporary file, which only a live reservation may explain.
 */
export async function bucketWrites(s3: TestS3): Promise<Map<string, number>> {
  const objects = await bucketObjects(s3.settings);
  for (const key of await s3.openUploads()) {
    if (key.startsWith(s3.settings.prefix)) objects.set(`${key.slice(s3.settings.prefix.length)}.partial`, 0);
  }
  return objects;
}
