import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type ContentsTestApp,
  createContentsApp,
  expectQuotaInvariant,
  listen,
  postStream,
} from '../support/contents.js';
import { type DatabaseEngine, describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;

/** `size` pseudo-random bytes made of 1 MiB random blocks, generated while streaming. */
function source(size: number, hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, size - sent)));
      chunk.writeUInt32BE(sent / MiB, 0);
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

describeEachDatabase('a 200 MiB file, streamed both ways', (engine) => {
  for (const backend of ['local', 's3'] as const)
    describe(`${backend} storage`, () => largeSuite(engine, backend));
});

function largeSuite(engine: DatabaseEngine, backend: 'local' | 's3') {
  let s3: TestS3 | undefined;
  let t: ContentsTestApp;
  let base: string;
  let token: string;
  let roomId: number;

  beforeAll(async () => {
    if (backend === 's3') s3 = await startS3();
    t = await createContentsApp({
      engine,
      env: { ROOM_LIMIT_MAX_SIZE: '1GiB' },
      ...(s3 ? { s3: s3.settings } : {}),
    });
    roomId = (await createRoom(t.app, 'large-room', { max_size: 300 * MiB })).id;
    token = (await enter(t.app, 'large-room')).token;
    base = await listen(t.app);
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('uploads one-shot (curl -F style) and downloads the identical bytes', async () => {
    const boundary = 'elzlargeboundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="large.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const sent = createHash('sha256');
    const body = Readable.from(
      (async function* () {
        yield head;
        for await (const chunk of source(SIZE, sent)) yield chunk as Buffer;
        yield tail;
      })(),
    );
    const response = await postStream(
      `${base}/api/v1/rooms/large-room/contents`,
      {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + SIZE + tail.length),
      },
      body,
    );
    expect(response.status, response.body).toBe(201);
    const uploaded = JSON.parse(response.body) as { uploaded: Array<{ id: number; size: number }> };
    expect(uploaded.uploaded[0]!.size).toBe(SIZE);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(SIZE);

    const got = await fetch(`${base}/api/v1/contents/${uploaded.uploaded[0]!.id}?token=${token}`);
    expect(got.headers.get('content-length')).toBe(String(SIZE));
    const received = createHash('sha256');
    let bytes = 0;
    for await (const chunk of got.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      received.update(chunk);
    }
    expect(bytes).toBe(SIZE);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
  }, 180_000);
}
