import { request } from 'node:http';

export interface SlowResult {
  status?: number;
  body?: string;
  /** The connection failed (reset by the server, …) before a response came. */
  error?: string;
}

/**
 * Sends a body in chunks with pauses, calling `onChunk(i)` after chunk i went out, so a test
 * can act in the middle of an upload. Resolves with the response or the connection error.
 */
export function slowRequest(
  url: string,
  options: {
    method: string;
    headers: Record<string, string>;
    chunks: Buffer[];
    delayMs: number;
    onChunk?: (index: number) => void | Promise<void>;
  },
): Promise<SlowResult> {
  const length = options.chunks.reduce((n, c) => n + c.length, 0);
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: SlowResult) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const req = request(url, {
      method: options.method,
      headers: { ...options.headers, 'content-length': String(length) },
    });
    req.on('error', (error) => done({ error: error.message }));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => done({ status: res.statusCode, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', (error) => done({ status: res.statusCode, error: error.message }));
    });
    void (async () => {
      for (const [i, chunk] of options.chunks.entries()) {
        if (settled || req.destroyed) return;
        await new Promise<void>((r) => req.write(chunk, () => r()));
        await options.onChunk?.(i);
        await new Promise((r) => setTimeout(r, options.delayMs));
      }
      if (!req.destroyed) req.end();
    })().catch((error: unknown) => done({ error: String(error) }));
  });
}

/** A multipart body (one file) split into `count` chunks. */
export function multipartChunks(fileName: string, content: Buffer, count: number) {
  const boundary = `----elzrel${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const whole = Buffer.concat([head, content, tail]);
  const size = Math.ceil(whole.length / count);
  const chunks: Buffer[] = [];
  for (let i = 0; i < whole.length; i += size) chunks.push(whole.subarray(i, i + size));
  return { chunks, contentType: `multipart/form-data; boundary=${boundary}` };
}

export const split = (data: Buffer, count: number): Buffer[] => {
  const size = Math.ceil(data.length / count);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
};

/** A status that is not a server fault: any 2xx–4xx, or a connection the server cut. */
export function isNotServerFault(result: SlowResult): boolean {
  if (result.status === undefined) return result.error !== undefined;
  return result.status < 500;
}
