import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import S3rver from 's3rver';

import type { AppConfig } from '../../src/config/types.js';

export interface TestS3 {
  settings: AppConfig['storage']['s3'];
  close(): Promise<void>;
}

/** An s3rver on 127.0.0.1 (free port) with one bucket in a temp directory. */
export async function startS3(): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'elizabeth' }],
  });
  const { port } = await server.run();
  return {
    settings: {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      bucket: 'elizabeth',
      access_key_id: 'S3RVER',
      secret_access_key: 'S3RVER',
      force_path_style: true,
      prefix: 'elz/',
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
