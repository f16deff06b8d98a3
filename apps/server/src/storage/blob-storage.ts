import type { Readable } from 'node:stream';

import type { DataStore } from '@tus/server';

/** Key prefix of resumable (tus) uploads; the rest of the key is the upload id. */
export const TUS_KEY_PREFIX = 'tus/';

export interface BlobStat {
  size: number;
}

/** One stored key as a listing sees it (its bytes, temporary files and tus bookkeeping together). */
export interface StoredBlob {
  key: string;
  /** Last time anything of the key was written, in ms since the epoch (S3: creation time). */
  modifiedAt: number;
}

/**
 * The shapes of the keys the server generates: `rooms/<room id>/<uuid>` and `tus/<upload id>`.
 * Listings return only these, so nothing else that shares the directory or bucket is touched.
 */
const OWN_KEY =
  /^(?:rooms\/\d+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|tus\/[0-9a-f]{32})$/;

/** The key a stored name belongs to once its `suffixes` (temporary file, sidecars) are cut. */
export function ownKeyOf(name: string, suffixes: readonly string[]): string | undefined {
  const suffix = suffixes.find((s) => name.endsWith(s));
  const key = suffix ? name.slice(0, -suffix.length) : name;
  return OWN_KEY.test(key) ? key : undefined;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  contentType?: string;
  /**
   * Called with the byte count before each chunk is written; throwing stops the write, which
   * then leaves nothing at the key. Used to enforce the quota and declared sizes while streaming.
   */
  onProgress?: (bytesSoFar: number) => void | Promise<void>;
}

/**
 * Where file bytes live. One implementation is chosen at start (`app.storage.backend`) and
 * injected into the services; nothing else touches the disk or the bucket. Keys are generated
 * by the server (never built from user input): `rooms/<room_id>/<uuid>` for simple uploads,
 * `tus/<upload id>` for resumable ones. Bytes always stream; no method buffers a whole file.
 */
export interface BlobStorage {
  readonly kind: 'local' | 's3';
  /** Throws when the storage cannot be used right now (health checks). */
  check(): Promise<void>;
  /**
   * Streams `body` to `key` and resolves with the number of bytes stored. The bytes appear at
   * the key only once complete (local: temporary file renamed; S3: multipart upload completed);
   * a failed or aborted write leaves nothing behind, and a crash leaves only what `delete(key)`
   * removes.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<number>;
  /** Size of a stored blob, or undefined when there is none. */
  stat(key: string): Promise<BlobStat | undefined>;
  /**
   * S3 only: a presigned GET URL of the blob, valid for `expiresInSeconds`, whose answer carries
   * the given `Content-Disposition` and `Content-Type` (response-content-* parameters).
   */
  downloadUrl?(
    key: string,
    options: { contentDisposition: string; contentType: string; expiresInSeconds: number },
  ): Promise<string>;
  /** The bytes of a blob (or of one range of it), streamed. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Removes a blob and everything kept for it while it was being written (temporary files,
   * unfinished multipart uploads, tus metadata; on disk, the room's directory once empty).
   * Removing one that does not exist is not an error.
   */
  delete(key: string): Promise<void>;
  /**
   * Every key that has something stored, in pages: finished blobs, interrupted writes (local
   * `.partial` files, S3 multipart uploads never completed) and tus uploads with their
   * bookkeeping. A key may appear more than once (S3 lists objects and open uploads apart).
   * Used by the lifecycle's orphan sweep; never buffers the whole listing.
   */
  list(): AsyncIterable<StoredBlob[]>;
  /** The tus data store of this backend (loaded on first use); upload `<id>` is at key `tus/<id>`. */
  createTusStore(options: { expirationMs: number }): Promise<TusStoreBinding>;
  /** Drops the tus bookkeeping of a finished upload, keeping its bytes at `key`. */
  dropTusMetadata(key: string): Promise<void>;
}

/** A tus data store and how its upload ids map to URL ids and storage keys. */
export interface TusStoreBinding {
  store: DataStore;
  /** The data store's id of the upload whose URL segment is `urlId`. */
  storeIdOf(urlId: string): string;
  /** The URL segment of a data store id, or undefined if it is not one of ours. */
  urlIdOf(storeId: string): string | undefined;
  /**
   * The tus PATCH fast path (no Web streams, no metadata read per request). `offsetOf`: bytes
   * stored so far of upload `storeId`, or undefined when there is no such upload.
   */
  offsetOf(storeId: string): Promise<number | undefined>;
  /**
   * Appends `body` at `offset` (the current offset) and resolves with the new offset. Never
   * destroys `body` (the request must still be answered): a failure leaves it unpiped, paused.
   * Bytes written before a failure or abort stay. `signal` ends the write early, keeping what
   * arrived (another request took over the upload's lock).
   */
  append(storeId: string, body: Readable, offset: number, signal?: AbortSignal): Promise<number>;
}
