/**
 * The HTTP stack `elizabeth push` gives tus-js-client (its `httpStack` option). tus-js-client
 * keeps the protocol (creation, HEAD for the offset, retries, resuming); this stack only sends
 * the bytes. A PATCH body is a byte range of a file (`FileRange`, made by the push's file
 * reader), sent from a few reused buffers: each buffer is read from the file, written to the
 * request and read into again once the socket has taken it. A read stream allocates a fresh
 * buffer for every read, and the page faults of 1 GiB of new memory cost more CPU than the copy
 * itself; on this two-core machine that CPU is taken from the server receiving the upload
 * (docs/BENCHMARKS.md, terminal client).
 */
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';

import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client';

/** A byte range of a file: what the push's file reader hands to tus-js-client as a body. */
export class FileRange {
  constructor(
    readonly path: string,
    readonly start: number,
    readonly end: number,
  ) {}

  get size(): number {
    return this.end - this.start;
  }
}

/** Bytes per read and write, and how many buffers are in flight at once. */
const BUFFER_BYTES = 1024 * 1024;
const BUFFERS = 4;
/** Progress is reported at most this often (and once at the end). */
const PROGRESS_MS = 100;

export class UploadHttpStack implements HttpStack {
  createRequest(method: string, url: string): HttpRequest {
    return new UploadRequest(method, url);
  }

  getName(): string {
    return 'ElizabethUploadStack';
  }
}

class UploadRequest implements HttpRequest {
  private readonly headers: Record<string, string> = {};
  private progress: (bytesSent: number) => void = () => undefined;
  private request: http.ClientRequest | undefined;

  constructor(
    private readonly method: string,
    private readonly url: string,
  ) {}

  getMethod(): string {
    return this.method;
  }

  getURL(): string {
    return this.url;
  }

  setHeader(header: string, value: string): void {
    this.headers[header] = value;
  }

  getHeader(header: string): string | undefined {
    return this.headers[header];
  }

  setProgressHandler(handler: (bytesSent: number) => void): void {
    this.progress = handler;
  }

  send(body?: unknown): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const target = new URL(this.url);
      const headers: Record<string, string | number> = { ...this.headers };
      if (body instanceof FileRange) headers['Content-Length'] = body.size;
      const req = (target.protocol === 'https:' ? https : http).request(target, {
        method: this.method,
        headers,
      });
      this.request = req;
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(new UploadResponse(res, Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body instanceof FileRange)
        sendRange(req, body, this.progress).catch((error: Error) => req.destroy(error));
      else if (body === undefined || body === null) req.end();
      else req.end(body as string | Uint8Array);
    });
  }

  abort(): Promise<void> {
    this.request?.destroy();
    return Promise.resolve();
  }

  getUnderlyingObject(): unknown {
    return this.request;
  }
}

class UploadResponse implements HttpResponse {
  constructor(
    private readonly res: http.IncomingMessage,
    private readonly body: string,
  ) {}

  getStatus(): number {
    return this.res.statusCode ?? 0;
  }

  getHeader(header: string): string | undefined {
    const value = this.res.headers[header.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  getBody(): string {
    return this.body;
  }

  getUnderlyingObject(): unknown {
    return this.res;
  }
}

/**
 * Writes the range into `req` from `BUFFERS` reused buffers; a buffer is read into again only
 * after its write's callback (the socket has the bytes). Stops when the request is destroyed
 * (an abort, an error, the server answering early).
 */
async function sendRange(
  req: http.ClientRequest,
  range: FileRange,
  progress: (bytesSent: number) => void,
): Promise<void> {
  const file = await open(range.path, 'r');
  const free = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafeSlow(BUFFER_BYTES));
  let waiting: (() => void) | undefined;
  const wake = () => {
    const resume = waiting;
    waiting = undefined;
    resume?.();
  };
  req.once('close', wake);
  let position = range.start;
  let sent = 0;
  let reported = 0;
  try {
    while (position < range.end && !req.destroyed) {
      const buffer = free.pop();
      if (!buffer) {
        await new Promise<void>((resume) => (waiting = resume));
        continue;
      }
      const { bytesRead } = await file.read(
        buffer,
        0,
        Math.min(BUFFER_BYTES, range.end - position),
        position,
      );
      if (bytesRead === 0) throw new Error(`${range.path} ended ${range.end - position} bytes early`);
      position += bytesRead;
      if (req.destroyed) break;
      req.write(buffer.subarray(0, bytesRead), (error) => {
        if (error) return;
        sent += bytesRead;
        free.push(buffer);
        const now = Date.now();
        if (sent === range.size || now - reported >= PROGRESS_MS) {
          reported = now;
          progress(sent);
        }
        wake();
      });
    }
    if (!req.destroyed) req.end();
  } finally {
    req.off('close', wake);
    await file.close();
  }
}
