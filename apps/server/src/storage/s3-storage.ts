import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

import type { AppConfig } from '../config/types.js';
import { beginTransfer, trackTransfer } from '../lib/heap-trim.js';
import {
  type BlobStat,
  type BlobStorage,
  type ByteRange,
  ownKeyOf,
  type PutOptions,
  type StoredBlob,
  TUS_KEY_PREFIX,
  type TusStoreBinding,
} from './blob-storage.js';
import { pipeInto } from './pipe-into.js';
import { progressTap } from './progress-tap.js';

/** Parts of 8 MiB, two in flight: at most ~16 MiB of a stream is held in memory per upload. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Objects the tus S3 store keeps beside an upload's bytes. */
const TUS_SIDECARS = ['.info', '.part'];

type S3Settings = AppConfig['storage']['s3'];

/**
 * The SDK's own logger. Without one it writes some warnings ("An error was encountered in a
 * non-retryable streaming request.") straight to the console, between the server's JSON log
 * lines; the error itself reaches the caller and is logged there with its request.
 */
const SDK_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export function s3ClientConfig(settings: S3Settings): S3ClientConfig {
  return {
    logger: SDK_LOGGER,
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.force_path_style,
    ...(settings.access_key_id
      ? {
          credentials: {
            accessKeyId: settings.access_key_id,
            secretAccessKey: settings.secret_access_key,
          },
        }
      : {}),
    // Checksums only where S3 requires them: S3-compatible servers (MinIO versions, Garage,
    // s3rver) do not all understand the aws-chunked trailers the SDK would send by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** Percent-encoding as SigV4 wants it (RFC 3986: also !'()*). */
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SHA-256 / HMAC-SHA-256 in the shape the SigV4 signer takes. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key =
      secret === undefined
        ? undefined
        : typeof secret === 'string'
          ? secret
          : ArrayBuffer.isView(secret)
            ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
            : Buffer.from(secret);
    this.hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(
      typeof data === 'string'
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data),
    );
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

const isNotFound = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** Passes the first `limit` bytes on, then ends and lets the source go. */
function takeBytes(limit: number, onDone: () => void): Transform {
  let left = limit;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left <= 0) return callback();
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      this.push(part);
      if (left === 0) {
        this.push(null);
        onDone();
      }
      callback();
    },
  });
}

/** An S3-compatible bucket (AWS, MinIO, Garage, R2, …); every key lives under `prefix`. */
export class S3Storage implements BlobStorage {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(private readonly settings: S3Settings) {
    if (!settings.bucket) throw new Error('app.storage.s3.bucket is required with the s3 backend');
    this.client = new S3Client(s3ClientConfig(settings));
    this.bucket = settings.bucket;
    this.prefix = settings.prefix && !settings.prefix.endsWith('/') ? `${settings.prefix}/` : settings.prefix;
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }

  /** SigV4 query signing as the SDK's presigner does it (unsigned payload), for GET only. */
  async downloadUrl(
    key: string,
    options: { contentDisposition: string; contentType: string; expiresInSeconds: number },
  ): Promise<string> {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const config = this.client.config;
    const [credentials, region] = await Promise.all([config.credentials(), config.region()]);
    const endpoint = new URL(this.settings.endpoint || `https://s3.${region}.amazonaws.com`);
    const pathStyle = this.settings.force_path_style;
    const hostname = pathStyle ? endpoint.hostname : `${this.bucket}.${endpoint.hostname}`;
    const host = endpoint.port ? `${hostname}:${endpoint.port}` : hostname;
    const objectPath = this.objectKey(key).split('/').map(rfc3986).join('/');
    const base = endpoint.pathname.replace(/\/+$/, '');
    const path = pathStyle ? `${base}/${rfc3986(this.bucket)}/${objectPath}` : `${base}/${objectPath}`;
    const signer = new SignatureV4({
      credentials,
      region,
      service: 's3',
      sha256: Sha256,
      uriEscapePath: false,
    });
    const signed = await signer.presign(
      {
        method: 'GET',
        protocol: endpoint.protocol,
        hostname,
        ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path,
        query: {
          'response-content-disposition': options.contentDisposition,
          'response-content-type': options.contentType,
        },
        headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn: options.expiresInSeconds },
    );
    const query = Object.entries(signed.query ?? {})
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => `${rfc3986(name)}=${rfc3986(String(v))}`),
      )
      .join('&');
    return `${endpoint.protocol}//${host}${path}?${query}`;
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<number> {
    const tap = progressTap(options.onProgress);
    const upload = new Upload({
      client: this.client,
      queueSize: QUEUE_SIZE,
      partSize: PART_SIZE,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: tap,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      },
    });
    const feeding = pipeline(body, tap);
    const transferDone = beginTransfer();
    try {
      // The tap fails the upload (aborting its multipart upload) when a limit is hit.
      await Promise.all([feeding, upload.done()]);
    } catch (error) {
      await upload.abort().catch(() => undefined);
      tap.destroy();
      throw error;
    } finally {
      transferDone();
    }
    return tap.bytes;
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const object = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }),
    );
    if (!object.Body) throw new Error(`S3 returned no body for ${key}`);
    const body = trackTransfer(object.Body as Readable);
    if (!range) return body;
    // Some S3 clones (s3rver) answer `bytes=N-0` with the rest of the object: cut it to length.
    const expected = range.end - range.start + 1;
    return object.ContentLength === expected ? body : body.pipe(takeBytes(expected, () => body.destroy()));
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    const sidecars = key.startsWith(TUS_KEY_PREFIX) ? TUS_SIDECARS.map((s) => objectKey + s) : [];
    await this.abortOpenUploads(objectKey);
    await this.deleteObjects([objectKey, ...sidecars]);
  }

  async *list(): AsyncIterable<StoredBlob[]> {
    const own = (objectKey: string | undefined, at: Date | undefined): StoredBlob[] => {
      if (!objectKey?.startsWith(this.prefix)) return [];
      const key = ownKeyOf(objectKey.slice(this.prefix.length), TUS_SIDECARS);
      return key ? [{ key, modifiedAt: at?.getTime() ?? 0 }] : [];
    };
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      const blobs = (page.Contents ?? []).flatMap((o) => own(o.Key, o.LastModified));
      if (blobs.length > 0) yield blobs;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // Multipart uploads never completed hold bytes that no object listing shows.
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.openUploads(this.prefix, keyMarker, uploadIdMarker);
      if (!page) return;
      const blobs = (page.Uploads ?? []).flatMap((u) => own(u.Key, u.Initiated));
      if (blobs.length > 0) yield blobs;
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /**
   * A crash, a failed write or an unfinished tus upload can leave a multipart upload open; it
   * holds bytes (and costs) until aborted.
   */
  private async abortOpenUploads(objectKey: string): Promise<void> {
    const open = await this.openUploads(objectKey);
    for (const upload of open?.Uploads ?? []) {
      if (upload.Key !== objectKey || !upload.UploadId) continue;
      await this.client
        .send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: upload.UploadId }),
        )
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
  }

  /** One page of the multipart uploads open under `prefix`; undefined when the server cannot list them. */
  private openUploads(prefix: string, keyMarker?: string, uploadIdMarker?: string) {
    return this.client
      .send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      )
      .catch((error: unknown) => {
        // Some S3 clones cannot list multipart uploads: none we could find or abort.
        if ((error as { name?: string }).name === 'NotImplemented') return undefined;
        throw error;
      });
  }

  private async deleteObjects(keys: string[]): Promise<void> {
    const result = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      throw new Error(`S3 could not delete ${failed.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`);
    }
  }

  async createTusStore(options: { expirationMs: number }): Promise<TusStoreBinding> {
    const { S3Store } = await import('@tus/s3-store');
    const prefix = this.prefix + TUS_KEY_PREFIX;
    const store = new S3Store({
      partSize: PART_SIZE,
      // Tags mark finished uploads for bucket lifecycle rules; not every S3 clone has tagging.
      useTags: false,
      maxConcurrentPartUploads: QUEUE_SIZE,
      expirationPeriodInMilliseconds: options.expirationMs,
      s3ClientConfig: { ...s3ClientConfig(this.settings), bucket: this.bucket },
    });
    return {
      store,
      storeIdOf: (urlId) => prefix + urlId,
      urlIdOf: (storeId) => (storeId.startsWith(prefix) ? storeId.slice(prefix.length) : undefined),
      // The store keeps an upload's metadata in memory after the first read; the offset is the
      // sum of its parts, listed from S3 (another instance may have written the last PATCH).
      offsetOf: async (storeId) => {
        try {
          return (await store.getUpload(storeId)).offset;
        } catch (error) {
          if ((error as { status_code?: number }).status_code === 404 || isNotFound(error)) return undefined;
          throw error;
        }
      },
      // The store's Node-level write (multipart parts), fed through a pass-through it may tear
      // down on failure, so the request itself is never destroyed before it is answered.
      append: async (storeId, body, offset, signal) => {
        const proxy = new PassThrough();
        const transferDone = beginTransfer();
        try {
          const feeding = pipeInto(body, proxy, signal);
          feeding.catch(() => undefined);
          const next = await store.write(proxy, storeId, offset);
          await feeding;
          return next;
        } finally {
          transferDone();
        }
      },
    };
  }

  async dropTusMetadata(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    // An empty upload never completes the multipart upload the tus store opened for it.
    await this.abortOpenUploads(objectKey);
    await this.deleteObjects(TUS_SIDECARS.map((s) => objectKey + s));
  }
}
