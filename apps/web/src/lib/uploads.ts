'use client';

import { getApi, isApiError } from './api-client';
import { addTransfer, updateTransfer } from './transfers';

export interface UploadOptions {
  room: string;
  chunkSize: number;
  onComplete?: (file: File) => void;
  onError?: (file: File, message: string, status?: number) => void;
}

let counter = 0;

/** tus status of a failed request, when there was a response. */
export function statusOf(error: unknown): number | undefined {
  const response = (error as { originalResponse?: { getStatus(): number } | null }).originalResponse;
  return response ? response.getStatus() : undefined;
}

/** tus retry delays: a dropped connection keeps trying for about a minute. */
export const TUS_RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];

/** Whether a failed tus request is worth retrying: no answer (network), busy, locked, or a 5xx. */
export function retryableTusStatus(status: number | undefined): boolean {
  return status === undefined || status === 409 || status === 423 || status === 429 || status >= 500;
}

function bodyOf(error: unknown): string {
  const response = (error as { originalResponse?: { getBody(): string } | null }).originalResponse;
  try {
    const parsed = JSON.parse(response?.getBody() ?? '') as { error?: { code?: string; message?: string } };
    return parsed.error?.code ?? parsed.error?.message ?? '';
  } catch {
    return '';
  }
}

/**
 * Uploads files one after the other with tus (resumable; a dropped connection retries and resumes
 * from the server's offset). The token travels in the Authorization header and is renewed per request.
 */
export async function uploadFiles(files: File[], options: UploadOptions): Promise<void> {
  const { Upload } = await import('tus-js-client');
  const api = getApi();
  const endpoint = api.uploadEndpoint(options.room);
  const queue = files.map((file) => ({ file, id: `up-${Date.now()}-${counter++}` }));

  for (const { file, id } of queue) {
    addTransfer({
      id,
      room: options.room,
      direction: 'up',
      name: file.name,
      total: file.size,
      status: 'queued',
    });
  }

  for (const { file, id } of queue) {
    await new Promise<void>((settle) => {
      let finished = false;
      const finish = () => {
        if (!finished) {
          finished = true;
          settle();
        }
      };
      const upload = new Upload(file, {
        endpoint,
        chunkSize: options.chunkSize > 0 ? options.chunkSize : Infinity,
        retryDelays: TUS_RETRY_DELAYS,
        removeFingerprintOnSuccess: true,
        storeFingerprintForResuming: true,
        metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
        onBeforeRequest: async (request) => {
          request.setHeader('Authorization', `Bearer ${await api.ensureToken(options.room)}`);
        },
        onShouldRetry: (error, attempt) => {
          const status = statusOf(error);
          if (status === 401 && attempt < 2) {
            void api.renew(options.room, true).catch(() => undefined);
            return true;
          }
          return retryableTusStatus(status); // network: keep trying (retryDelays bound it)
        },
        onProgress: (loaded, total) => updateTransfer(id, { loaded, total, status: 'active' }),
        onSuccess: () => {
          updateTransfer(id, {
            loaded: file.size,
            status: 'done',
            pause: undefined,
            resume: undefined,
            cancel: undefined,
          });
          options.onComplete?.(file);
          finish();
        },
        onError: (error) => {
          const status = statusOf(error);
          const code = bodyOf(error);
          const message =
            code || (isApiError(error) ? error.code : navigator.onLine ? 'UPLOAD_FAILED' : 'NETWORK_ERROR');
          updateTransfer(id, { status: 'error', error: message, pause: undefined });
          if (status === undefined) {
            // Connection lost: pick up from the server's offset as soon as the browser is back online.
            window.addEventListener('online', () => start(), { once: true });
          } else {
            options.onError?.(file, message, status);
          }
          finish();
        },
      });

      const start = () => {
        updateTransfer(id, { status: 'active', error: undefined, pause, cancel });
        upload.start();
      };
      const pause = () => {
        void upload.abort(false);
        updateTransfer(id, { status: 'paused', pause: undefined, resume: start });
        finish(); // let the next file go; this one resumes from its offset when asked
      };
      const cancel = () => {
        void upload.abort(true).catch(() => undefined);
        updateTransfer(id, { status: 'cancelled', pause: undefined, resume: undefined, cancel: undefined });
        finish();
      };
      // "Retry" after an error resumes from the server's offset (same fingerprint).
      updateTransfer(id, { resume: start, cancel });

      void upload
        .findPreviousUploads()
        .then((previous) => {
          const last = previous[0];
          if (last) upload.resumeFromPreviousUpload(last);
        })
        .catch(() => undefined)
        .finally(start);
    });
  }
}
