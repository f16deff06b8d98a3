import { finished, type Readable, type Writable } from 'node:stream';

import { countChunk } from '../lib/heap-trim.js';

/**
 * `body.pipe(sink)` with one outcome and without `pipeline`'s teardown: the source is never
 * destroyed (it is an HTTP request still to be answered), and what arrived before the source
 * failed, or before `signal` fired, is still flushed to the sink. Resolves once the sink has
 * finished; rejects with the sink's error, or with the source's after the sink has flushed.
 * Per chunk, beyond what `pipe` does, only the count that paces garbage collection
 * (`noteTransferBytes`).
 */
export function pipeInto(body: Readable, sink: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let sourceError: Error | undefined;
    const stopEarly = (error?: Error) => {
      if (error !== undefined) sourceError ??= error;
      body.unpipe(sink);
      if (!sink.writableEnded) sink.end();
    };
    const onAbort = () => stopEarly();
    signal?.addEventListener('abort', onAbort, { once: true });
    const stopWatchingSource = finished(body, { writable: false }, (error) => {
      if (error) stopEarly(error);
    });
    finished(sink, (error) => {
      stopWatchingSource();
      body.off('data', countChunk);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        body.unpipe(sink);
        reject(error);
      } else if (sourceError !== undefined) {
        reject(sourceError);
      } else resolve();
    });
    if (signal?.aborted) stopEarly();
    else {
      body.pipe(sink);
      body.on('data', countChunk);
    }
  });
}
