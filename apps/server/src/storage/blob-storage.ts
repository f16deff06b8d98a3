/**
 * Where file bytes live. One implementation is chosen at start (`app.storage.backend`) and
 * injected into the services; nothing else touches the disk or the bucket.
 */
export interface BlobStorage {
  readonly kind: 'local' | 's3';
  /** Throws when the storage cannot be used right now (health checks). */
  check(): Promise<void>;
}
