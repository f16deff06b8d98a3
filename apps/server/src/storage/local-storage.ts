import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, type FileHandle, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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

/** Suffix of the file a write goes to before it is renamed into place. */
const PARTIAL = '.partial';
/** Where the tus file store keeps an upload's metadata, beside its bytes. */
const TUS_METADATA = '.json';
/** Write failures that mean "no space": kept as they are so the client hears 507. */
const STORAGE_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
/** Top-level directories of the keys the server writes. */
const KEY_DIRECTORIES = ['rooms', 'tus'];
/** Keys of simple uploads: `rooms/<room id>/<uuid>`, one directory per room. */
const ROOMS_KEY_PREFIX = 'rooms/';
const LIST_PAGE = 500;
/**
 * Read size of downloads: 1 MiB reads instead of Node's 64 KiB mean 16 × fewer chunks (each a
 * Buffer, a read callback and a socket write) per byte; at most about two are in flight per
 * download, so memory stays flat whatever the file size.
 */
export const READ_CHUNK = 1024 * 1024;

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

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<number> {
    const path = this.pathOf(key);
    // Beside the final file, so finishing is an atomic rename on the same filesystem, and a
    // crash leaves it where `delete(key)` looks.
    const partial = path + PARTIAL;
    const file = await this.create(partial);
    const tap = progressTap(options.onProgress);
    const transferDone = beginTransfer();
    try {
      // A large buffer lets the file stream gather several request chunks into one writev.
      await pipeline(body, tap, file.createWriteStream({ highWaterMark: READ_CHUNK }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    } finally {
      transferDone();
    }
    return tap.bytes;
  }

  /**
   * Opens a new file for writing, creating its directory. `delete` removes a room's directory
   * once it is empty, which can happen between the two steps: then both are done again.
   */
  private async create(path: string): Promise<FileHandle> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Even `mkdir -p` fails (ENOENT) when the directory goes while it looks at it.
        await mkdir(dirname(path), { recursive: true });
        return await open(path, 'w');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
      }
    }
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { size: info.size } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const stream = trackTransfer(
      createReadStream(this.pathOf(key), {
        highWaterMark: READ_CHUNK,
        ...(range ? { start: range.start, end: range.end } : {}),
      }),
    );
    // Surface a missing file as a rejected promise, not as a stream error after headers went out.
    await new Promise<void>((ok, fail) => {
      stream.once('open', () => ok());
      stream.once('error', fail);
    });
    return stream;
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await rm(path + PARTIAL, { force: true });
    if (key.startsWith(TUS_KEY_PREFIX)) await rm(path + TUS_METADATA, { force: true });
    // Real deletion: the room's directory goes with its last file (not if anything is left).
    if (key.startsWith(ROOMS_KEY_PREFIX)) {
      await rmdir(dirname(path)).catch((error: NodeJS.ErrnoException) => {
        if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(error.code ?? '')) throw error;
      });
    }
  }

  async *list(): AsyncIterable<StoredBlob[]> {
    let page: StoredBlob[] = [];
    for (const top of KEY_DIRECTORIES) {
      for await (const blob of this.keysUnder(top)) {
        page.push(blob);
        if (page.length >= LIST_PAGE) {
          yield page;
          page = [];
        }
      }
    }
    if (page.length > 0) yield page;
  }

  /**
   * The keys stored under `dir` (relative to the root), depth first, one entry per key: the
   * files of a key (bytes, `.partial`, tus `.json`) sit in one directory, and the latest of
   * their modification times is the key's.
   */
  private async *keysUnder(dir: string): AsyncIterable<StoredBlob> {
    let entries;
    try {
      entries = await readdir(join(this.root, dir), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const keys = new Map<string, number>();
    for (const entry of entries) {
      const name = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        yield* this.keysUnder(name);
        continue;
      }
      const key = entry.isFile() ? ownKeyOf(name, [PARTIAL, TUS_METADATA]) : undefined;
      if (!key) continue;
      const info = await stat(join(this.root, name)).catch(() => undefined);
      if (!info) continue; // removed while listing
      keys.set(key, Math.max(keys.get(key) ?? 0, info.mtimeMs));
    }
    for (const [key, modifiedAt] of keys) yield { key, modifiedAt };
  }

  async createTusStore(options: { expirationMs: number }): Promise<TusStoreBinding> {
    const { FileStore } = await import('@tus/file-store');
    const store = new FileStore({
      directory: this.root,
      expirationPeriodInMilliseconds: options.expirationMs,
    });
    // @tus/file-store reports every failed write as one generic error, so a full disk would be a
    // 500. Same write (append at `offset`, bytes written so far stay), but "no space" survives.
    store.write = async (readable, id, offset) => {
      try {
        return await this.appendTus(id, readable, offset);
      } catch (error) {
        if (STORAGE_FULL.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        throw Object.assign(new Error('Something went wrong receiving the file'), {
          status_code: 500,
          body: 'Something went wrong receiving the file\n',
        });
      }
    };
    return {
      store,
      storeIdOf: (urlId) => TUS_KEY_PREFIX + urlId,
      urlIdOf: (storeId) =>
        storeId.startsWith(TUS_KEY_PREFIX) ? storeId.slice(TUS_KEY_PREFIX.length) : undefined,
      // The file's length is the offset: no metadata file is read per PATCH.
      offsetOf: async (storeId) => (await this.stat(storeId))?.size,
      append: (storeId, body, offset, signal) => this.appendTus(storeId, body, offset, signal),
    };
  }

  /** Writes `body` into upload `id`'s file from `offset` on; resolves with the new offset. */
  private async appendTus(id: string, body: Readable, offset: number, signal?: AbortSignal): Promise<number> {
    const file = createWriteStream(this.pathOf(id), { flags: 'r+', start: offset });
    const transferDone = beginTransfer();
    try {
      await pipeInto(body, file, signal);
    } finally {
      transferDone();
    }
    return offset + file.bytesWritten;
  }

  async dropTusMetadata(key: string): Promise<void> {
    await rm(this.pathOf(key) + TUS_METADATA, { force: true });
  }
}
