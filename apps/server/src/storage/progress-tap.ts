import { Transform } from 'node:stream';

import { noteTransferBytes } from '../lib/heap-trim.js';

/**
 * A pass-through that counts bytes and lets a callback veto them before they go on; it also
 * reports them to the garbage-collection pacing of transfers (`noteTransferBytes`).
 */
export interface ProgressTap extends Transform {
  readonly bytes: number;
}

export function progressTap(onProgress?: (bytesSoFar: number) => void | Promise<void>): ProgressTap {
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      noteTransferBytes(chunk.length);
      if (!onProgress) {
        callback(null, chunk);
        return;
      }
      try {
        const pending = onProgress(bytes);
        if (pending) pending.then(() => callback(null, chunk), callback);
        else callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  Object.defineProperty(tap, 'bytes', { get: () => bytes });
  return tap as ProgressTap;
}
