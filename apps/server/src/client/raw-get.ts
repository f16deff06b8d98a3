/**
 * The fast path of `elizabeth pull` into a file: one HTTP/1.1 GET over a plain TCP socket that
 * reads into one reused 1 MiB buffer (`net.connect`'s `onread`), each read written to the file
 * before the next, as curl does. node:http hands every 64 KiB of a body to JavaScript as a new
 * buffer (a copy the parser makes of the socket's own new buffer); for 1 GiB that is 32 000
 * allocations whose memory glibc keeps returning to the kernel and faulting back in: 2–5 s of
 * CPU here, against 0.7 s for this reader (docs/BENCHMARKS.md, terminal client).
 *
 * It takes only the plain case: `http:`, an answer with a `Content-Length` and no
 * `Transfer-Encoding`. Anything else says `unsupported` before a byte of it is written, and the
 * caller asks again through node:http (HTTPS, a chunked answer from a proxy).
 */
import { closeSync, writeSync } from 'node:fs';
import net from 'node:net';

import { ClientError, EXIT } from './errors.js';

export type RawOutcome =
  /** A 200 or 206 body is in the file: `bytes` of it arrived. */
  | { kind: 'written'; status: number; bytes: number }
  /** Any other answer (an error, a redirect), its body read whole. */
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: Buffer }
  /** Not the plain case: nothing was written, ask through node:http instead. */
  | { kind: 'unsupported' };

const READ_BUFFER = 1024 * 1024;
/** A status line and headers longer than this are not an answer of ours. */
const MAX_HEAD = 64 * 1024;
/** Error and redirect bodies kept at most (the rest is dropped). */
const MAX_ANSWER = 1024 * 1024;

/** True when `rawGet` can take this URL at all. */
export function rawGetCan(url: URL): boolean {
  return url.protocol === 'http:';
}

/**
 * GETs `url` with `headers`. A 200/206 body goes to the file descriptor `open(status)` returns
 * (opened only once the answer is known to be one), closed before this resolves; `onProgress`
 * gets the bytes of the body written so far. Rejects with a ClientError when the connection
 * fails or closes before the whole body arrived (what was written stays in the file).
 */
export function rawGet(
  url: URL,
  headers: Record<string, string>,
  open: (status: number) => number,
  onProgress?: (bytes: number) => void,
): Promise<RawOutcome> {
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new ClientError(`bad header ${name}`, EXIT.OTHER);
  }
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  const request = `${lines.join('\r\n')}\r\n\r\n`;

  return new Promise<RawOutcome>((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    let status = 0;
    let answerHeaders: Record<string, string> = {};
    let length = -1;
    let received = 0;
    let fd: number | undefined;
    let answer: Buffer[] | undefined;
    let settled = false;

    const finish = (outcome: RawOutcome | Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      try {
        if (fd !== undefined) closeSync(fd);
      } catch (error) {
        if (!(outcome instanceof Error)) outcome = error as Error;
      }
      fd = undefined;
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };

    const body = (chunk: Buffer) => {
      const take = length >= 0 ? Math.min(chunk.length, length - received) : chunk.length;
      if (take <= 0) return;
      if (fd !== undefined) {
        for (let at = 0; at < take;) at += writeSync(fd, chunk, at, take - at);
        received += take;
        onProgress?.(received);
      } else {
        received += take;
        if (answer && received <= MAX_ANSWER) answer.push(Buffer.from(chunk.subarray(0, take)));
      }
      if (received === length) done();
    };

    const done = () => {
      if (answer) finish({ kind: 'answer', status, headers: answerHeaders, body: Buffer.concat(answer) });
      else finish({ kind: 'written', status, bytes: received });
    };

    /** Parses the head once it is whole; false while more of it is to come. */
    const onHead = (): boolean => {
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) throw new ClientError(`${url.origin}: answer head too long`, EXIT.OTHER);
        return false;
      }
      const [statusLine = '', ...fields] = head.subarray(0, end).toString('latin1').split('\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!match) throw new ClientError(`${url.origin}: not an HTTP/1.1 answer`, EXIT.OTHER);
      status = Number(match[1]);
      answerHeaders = {};
      for (const field of fields) {
        const colon = field.indexOf(':');
        if (colon <= 0) continue;
        const name = field.slice(0, colon).trim().toLowerCase();
        const value = field.slice(colon + 1).trim();
        answerHeaders[name] = name in answerHeaders ? `${answerHeaders[name]}, ${value}` : value;
      }
      const declared = answerHeaders['content-length'];
      length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : -1;
      const plain = answerHeaders['transfer-encoding'] === undefined && status >= 200;
      if (status === 200 || status === 206) {
        if (!plain || length < 0) {
          finish({ kind: 'unsupported' });
          return true;
        }
        fd = open(status);
      } else if (!plain) {
        finish({ kind: 'unsupported' });
        return true;
      } else {
        answer = [];
      }
      const rest = head.subarray(end + 4);
      head = Buffer.alloc(0);
      if (length === 0) done();
      else if (rest.length > 0) body(rest);
      return true;
    };

    let inBody = false;
    const socket = net.connect({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 80),
      onread: {
        buffer: Buffer.allocUnsafeSlow(READ_BUFFER),
        callback: (read: number, buffer: Uint8Array) => {
          if (settled) return false;
          try {
            const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, read);
            if (inBody) body(chunk);
            else {
              head = Buffer.concat([head, chunk]);
              inBody = onHead();
            }
          } catch (error) {
            finish(error as Error);
            return false;
          }
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(request));
    socket.on('error', (error) => finish(new ClientError(`${url.origin}: ${error.message}`, EXIT.OTHER)));
    socket.on('end', () => {
      if (inBody && length < 0 && answer) return done(); // an answer without a length ends here
      finish(
        new ClientError(
          `${url.origin}: the connection closed after ${received} of ${length < 0 ? '?' : length} bytes`,
          EXIT.OTHER,
        ),
      );
    });
    socket.on('close', () =>
      finish(new ClientError(`${url.origin}: the connection closed before the answer ended`, EXIT.OTHER)),
    );
  });
}
