// Upload and download clients: tus (8 MiB PATCHes), one-shot multipart and streaming download,
// each against Elizabeth, the bare baseline server and (with --peer) droppy. Every client reads
// the same source file and hashes what it downloads, so all sides pay the same client costs.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';

import { request } from './lib.mjs';

const keepAlive = () => new http.Agent({ keepAlive: true, maxSockets: 1 });

function expectStatus(res, statuses, what) {
  if (!statuses.includes(res.status)) {
    throw new Error(`${what} answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  }
}

/** tus-style upload: one create request, then sequential PATCHes of `chunkSize` bytes. */
export async function chunkedUpload({ createUrl, createHeaders, patchHeaders, tus }, file, size, chunkSize) {
  const agent = keepAlive();
  try {
    const created = await request(createUrl, {
      method: 'POST',
      headers: { ...createHeaders, 'content-length': '0' },
      agent,
    });
    expectStatus(created, [201], 'upload creation');
    const location = new URL(String(created.headers.location), createUrl).toString();
    for (let offset = 0; offset < size; offset += chunkSize) {
      const length = Math.min(chunkSize, size - offset);
      const res = await request(location, {
        method: 'PATCH',
        headers: {
          ...patchHeaders,
          'content-length': String(length),
          ...(tus
            ? {
                'tus-resumable': '1.0.0',
                'upload-offset': String(offset),
                'content-type': 'application/offset+octet-stream',
              }
            : { 'content-type': 'application/octet-stream' }),
        },
        body: createReadStream(file, { start: offset, end: offset + length - 1, highWaterMark: 1024 * 1024 }),
        agent,
      });
      expectStatus(res, [204], `PATCH at offset ${offset}`);
      if (tus && Number(res.headers['upload-offset']) !== offset + length) {
        throw new Error(
          `PATCH at ${offset}: Upload-Offset ${res.headers['upload-offset']}, expected ${offset + length}`,
        );
      }
    }
    return location;
  } finally {
    agent.destroy();
  }
}

/** A multipart/form-data body with one file part, streamed from disk, and its length. */
export function multipartBody(file, size, fileName, fieldName = 'file') {
  const boundary = `----elizabeth-bench-${Date.now().toString(36)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${fileName}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts() {
    yield head;
    yield* createReadStream(file, { highWaterMark: 1024 * 1024 });
    yield tail;
  }
  return {
    stream: () => Readable.from(parts(), { objectMode: false }),
    length: head.length + size + tail.length,
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

/** Sends one multipart request; resolves with the parsed answer (or undefined for an empty one). */
export async function multipartUpload(url, { method = 'POST', headers = {} }, file, size, fileName, expect) {
  const body = multipartBody(file, size, fileName);
  const res = await request(url, {
    method,
    headers: { ...headers, 'content-type': body.contentType, 'content-length': String(body.length) },
    body: body.stream(),
  });
  expectStatus(res, expect, 'multipart upload');
  const text = res.body.toString('utf8');
  return text.startsWith('{') ? JSON.parse(text) : undefined;
}

/** Streams a GET into a SHA-256; resolves with the byte count and the digest. */
export function download(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`download ${url} answered ${res.statusCode}`));
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
