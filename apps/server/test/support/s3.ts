import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import S3rver, { type S3rverContext } from 's3rver';

import type { AppConfig } from '../../src/config/types.js';

/** An error S3 (or a clone) answers with, e.g. MinIO's full disk: `{ status: 507, code: 'XMinioStorageFull' }`. */
export interface S3Fault {
  status: number;
  code: string;
}

/**
 * Faults the test S3 answers with until changed: `write` for object and part uploads (after
 * `writesBeforeFault` of them still succeeded), `read` for object downloads.
 */
export interface S3Faults {
  write?: S3Fault;
  writesBeforeFault?: number;
  read?: S3Fault;
}

export interface TestS3 {
  settings: AppConfig['storage']['s3'];
  /** Set to make requests fail as a full, read-only or overloaded S3 would; {} = none. */
  faults: S3Faults;
  /** The directory s3rver keeps the bucket in (to look for leftover bytes). */
  dir: string;
  /** Multipart uploads still open in the bucket (keys), as ListMultipartUploads reports them. */
  openUploads(): Promise<string[]>;
  close(): Promise<void>;
}

const BUCKET = 'elizabeth';

/** Where s3rver 3 keeps the multipart uploads of a bucket: `<uploadId>/{key,metadata,<n>,<n>.md5}`. */
const uploadsDir = (root: string, bucket: string) => join(root, bucket, '._S3rver_uploads');

class NoSuchUpload extends Error {}

interface OpenUpload {
  uploadId: string;
  key: string;
  initiated: Date;
}

async function openUploads(root: string, bucket: string): Promise<OpenUpload[]> {
  const dir = uploadsDir(root, bucket);
  const ids = await readdir(dir).catch(() => [] as string[]);
  const uploads: OpenUpload[] = [];
  for (const uploadId of ids) {
    const key = await readFile(join(dir, uploadId, 'key'), 'utf8').catch(() => undefined);
    if (key === undefined) continue;
    uploads.push({ uploadId, key, initiated: (await stat(join(dir, uploadId))).mtime });
  }
  return uploads.sort((a, b) => a.key.localeCompare(b.key) || a.uploadId.localeCompare(b.uploadId));
}

async function uploadOf(root: string, bucket: string, key: string, uploadId: string): Promise<string> {
  if (!/^[0-9a-f]+$/.test(uploadId)) throw new NoSuchUpload();
  const dir = join(uploadsDir(root, bucket), uploadId);
  const stored = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
  if (stored !== key) throw new NoSuchUpload();
  return dir;
}

/**
 * The multipart operations s3rver 3 lacks and real S3 has: ListParts (`GET …/key?uploadId=`),
 * AbortMultipartUpload (`DELETE …/key?uploadId=`) and ListMultipartUploads
 * (`GET /bucket?uploads`), answered from s3rver's own upload directory with S3's XML shapes.
 * `@tus/s3-store` resumes an upload with ListParts and terminates one with the abort; without
 * them s3rver answers 405/501 where S3 answers 200/204. Path-style requests only (as the tests
 * use). Everything else stays s3rver's.
 */
function multipartCompletion(root: string) {
  return async (ctx: S3rverContext, next: () => Promise<void>): Promise<void> => {
    const [, bucket, ...rest] = ctx.path.split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const query = ctx.query;
    try {
      if (bucket && key && typeof query.uploadId === 'string') {
        const dir = await uploadOf(root, bucket, key, query.uploadId);
        if (ctx.method === 'DELETE') {
          await rm(dir, { recursive: true, force: true });
          ctx.status = 204;
          return;
        }
        if (ctx.method === 'GET') {
          const marker = Number(query['part-number-marker'] ?? 0) || 0;
          const max = Math.min(Number(query['max-parts'] ?? 1000) || 1000, 1000);
          const numbers = (await readdir(dir))
            .filter((f) => /^\d+$/.test(f))
            .map(Number)
            .filter((n) => n > marker)
            .sort((a, b) => a - b);
          const page = numbers.slice(0, max);
          const parts = [];
          for (const n of page) {
            const info = await stat(join(dir, String(n)));
            const md5 = await readFile(join(dir, `${n}.md5`), 'utf8');
            parts.push({
              PartNumber: n,
              LastModified: info.mtime.toISOString(),
              ETag: `"${md5}"`,
              Size: info.size,
            });
          }
          const truncated = numbers.length > page.length;
          ctx.body = {
            ListPartsResult: {
              Bucket: bucket,
              Key: key,
              UploadId: query.uploadId,
              PartNumberMarker: marker,
              ...(truncated ? { NextPartNumberMarker: page[page.length - 1] } : {}),
              MaxParts: max,
              IsTruncated: truncated,
              ...(parts.length > 0 ? { Part: parts } : {}),
            },
          };
          return;
        }
      }
      if (bucket && !key && ctx.method === 'GET' && 'uploads' in query) {
        const prefix = typeof query.prefix === 'string' ? query.prefix : '';
        const uploads = (await openUploads(root, bucket)).filter((u) => u.key.startsWith(prefix));
        ctx.body = {
          ListMultipartUploadsResult: {
            Bucket: bucket,
            Prefix: prefix,
            MaxUploads: 1000,
            IsTruncated: false,
            ...(uploads.length > 0
              ? {
                  Upload: uploads.map((u) => ({
                    Key: u.key,
                    UploadId: u.uploadId,
                    Initiated: u.initiated.toISOString(),
                  })),
                }
              : {}),
          },
        };
        return;
      }
    } catch (error) {
      if (!(error instanceof NoSuchUpload)) throw error;
      ctx.status = 404;
      ctx.body = {
        Error: {
          Code: 'NoSuchUpload',
          Message: 'The specified upload does not exist.',
          UploadId: query.uploadId,
        },
      };
      return;
    }
    await next();
  };
}

/** Answers object and part uploads (`PUT …/key`) and downloads with the errors armed in `faults`. */
function faultInjection(faults: S3Faults) {
  return async (ctx: S3rverContext, next: () => Promise<void>): Promise<void> => {
    const [, bucket, ...key] = ctx.path.split('/');
    const isObject = Boolean(bucket && key.length > 0 && key.join('/'));
    let fault: S3Fault | undefined;
    if (isObject && ctx.method === 'PUT' && !ctx.get('x-amz-copy-source') && faults.write) {
      if ((faults.writesBeforeFault ?? 0) > 0) faults.writesBeforeFault! -= 1;
      else fault = faults.write;
    } else if (isObject && ctx.method === 'GET' && !('uploadId' in ctx.query)) {
      fault = faults.read;
    }
    if (!fault) return next();
    // Read the body first, as S3 does, so the client sees the answer and not a reset socket.
    for await (const _chunk of ctx.req) {
      // discarded
    }
    ctx.status = fault.status;
    ctx.body = { Error: { Code: fault.code, Message: `injected fault: ${fault.code}` } };
  };
}

/**
 * An s3rver on 127.0.0.1 (free port) with one bucket in a temp directory, completed with the
 * multipart listing and abort operations of real S3 (see `multipartCompletion`).
 */
export async function startS3(): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'elz-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET }],
  });
  // Just before s3rver's router (the last middleware), after its XML encoder and vhost handling.
  const faults: S3Faults = {};
  server.middleware.splice(server.middleware.length - 1, 0, faultInjection(faults), multipartCompletion(dir));
  const { port } = await server.run();
  return {
    settings: {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      bucket: BUCKET,
      access_key_id: 'S3RVER',
      secret_access_key: 'S3RVER',
      force_path_style: true,
      prefix: 'elz/',
      presign_downloads_seconds: 0,
    },
    faults,
    dir,
    openUploads: async () => (await openUploads(dir, BUCKET)).map((u) => u.key),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The environment that points a spawned server (`elizabeth serve`) at the test S3. */
export function s3ServerEnv(settings: TestS3['settings']): Record<string, string> {
  return {
    STORAGE_BACKEND: 's3',
    S3_ENDPOINT: settings.endpoint,
    S3_REGION: settings.region,
    S3_BUCKET: settings.bucket,
    S3_ACCESS_KEY_ID: settings.access_key_id,
    S3_SECRET_ACCESS_KEY: settings.secret_access_key,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: settings.prefix,
  };
}
