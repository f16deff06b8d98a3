'use client';

import { getApi, readBlob } from './api-client';
import { addTransfer, updateTransfer } from './transfers';

let counter = 0;

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.rel = 'noopener';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** File name from `Content-Disposition` (RFC 6266 `filename*` first). */
export function dispositionFileName(header: string | null): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      // fall through
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(header);
  return plain?.[1]?.trim();
}

/**
 * Downloads with the token in the Authorization header (never in a URL), showing progress in the
 * transfer panel, then saves the blob under its name.
 */
export async function downloadWithProgress(
  room: string,
  name: string,
  size: number | undefined,
  open: (signal: AbortSignal) => Promise<Response>,
): Promise<void> {
  const id = `down-${Date.now()}-${counter++}`;
  const controller = new AbortController();
  addTransfer({
    id,
    room,
    direction: 'down',
    name,
    total: size ?? 0,
    status: 'active',
    cancel: () => {
      controller.abort();
      updateTransfer(id, { status: 'cancelled', cancel: undefined });
    },
  });
  try {
    const response = await open(controller.signal);
    const blob = await readBlob(response, ({ loaded, total }) =>
      updateTransfer(id, { loaded, total: total ?? size ?? loaded }),
    );
    const fileName = dispositionFileName(response.headers.get('Content-Disposition')) ?? name;
    updateTransfer(id, { status: 'done', loaded: blob.size, total: blob.size, cancel: undefined });
    saveBlob(blob, fileName);
  } catch (error) {
    if (controller.signal.aborted) return;
    updateTransfer(id, {
      status: 'error',
      error: error instanceof Error ? error.message : String(error),
      cancel: undefined,
    });
    throw error;
  }
}

export function downloadContent(
  room: string,
  content: { id: number; file_name: string | null; size: number | null },
) {
  return downloadWithProgress(
    room,
    content.file_name ?? `file-${content.id}`,
    content.size ?? undefined,
    (signal) => getApi().content(room, content.id, { signal }),
  );
}

export function downloadArchive(
  room: string,
  ids: number[] | undefined,
  name: string,
  options: { messages: boolean },
) {
  return downloadWithProgress(room, name, undefined, (signal) =>
    getApi().archive(room, ids, { messages: options.messages, signal }),
  );
}
