/**
 * QUALITY.md "storage full (ENOSPC) → 507, nothing partial kept", through a fault-injecting
 * BlobStorage wrapper around the real local storage: the write fails part-way (after some bytes
 * reached the disk) with ENOSPC, EDQUOT or EACCES, on one-shot, two-step and tus uploads, and
 * reads fail on downloads. Answers are 507 (full) or 500 (refused) envelopes — the process
 * survives — and afterwards no bytes, reservation or quota of the failed upload remain.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { BlobStorage, ByteRange, PutOptions, TusStoreBinding } from '../../src/storage/blob-storage.js';
import { createLoggedApp, type LoggedApp } from '../security/logged-app.js';
import { listen, multipart } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { enter, expectError } from '../support/rooms.js';
import { expectConsistent } from './invariants.js';

type Fault = 'ENOSPC' | 'EDQUOT' | 'EACCES' | undefined;

function errnoError(code: Exclude<Fault, undefined>): NodeJS.ErrnoException {
  const messages = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
  };
  const error: NodeJS.ErrnoException = new Error(`${code}: ${messages[code]}, write`);
  error.code = code;
  error.errno = code === 'EACCES' ? -13 : code === 'ENOSPC' ? -28 : -122;
  error.syscall = 'write';
  return error;
}

/** Passes `limit` bytes through, then fails like a full or read-only disk would. */
async function* failAfter(source: Readable, limit: number, fault: Exclude<Fault, undefined>) {
  let seen = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > limit) {
      yield chunk.subarray(0, Math.max(0, chunk.length - (seen - limit)));
      throw errnoError(fault);
    }
    yield chunk;
  }
}

/** Wraps a real storage; `fault` makes writes fail after `failAfter` bytes reached the disk. */
class FaultyStorage implements BlobStorage {
  fault: Fault;
  readFault: Fault;
  failAfter = 16 * 1024;

  constructor(private readonly inner: BlobStorage) {}

  get kind() {
    return this.inner.kind;
  }
  check() {
    return this.inner.check();
  }
  put(key: string, body: Readable, options?: PutOptions): Promise<number> {
    const fault = this.fault;
    if (!fault) return this.inner.put(key, body, options);
    return this.inner.put(key, Readable.from(failAfter(body, this.failAfter, fault)), options);
  }
  stat(key: string) {
    return this.inner.stat(key);
  }
  read(key: string, range?: ByteRange) {
    if (this.readFault) return Promise.reject(errnoError(this.readFault));
    return this.inner.read(key, range);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  dropTusMetadata(key: string) {
    return this.inner.dropTusMetadata(key);
  }
  async createTusStore(options: { expirationMs: number }): Promise<TusStoreBinding> {
    const binding = await this.inner.createTusStore(options);
    const store = binding.store;
    const write = store.write.bind(store);
    store.write = async (readable: Readable, id: string, offset: number) => {
      const fault = this.fault;
      if (!fault) return write(readable, id, offset);
      // As fs would: the store's own write pipeline fails, the request stream is left to tus.
      let seen = 0;
      const limit = this.failAfter;
      const failing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          if (seen > limit) done(errnoError(fault));
          else done(null, chunk);
        },
      });
      readable.pipe(failing);
      return write(failing, id, offset);
    };
    return binding;
  }
}

function expectEnvelope(body: string, status: number, code: string): void {
  const parsed = JSON.parse(body) as { error: { status: number; code: string } };
  expect(parsed.error.status).toBe(status);
  expect(parsed.error.code).toBe(code);
}

const EXPECTED: Record<Exclude<Fault, undefined>, { status: number; code: string }> = {
  ENOSPC: { status: 507, code: 'INSUFFICIENT_STORAGE' },
  EDQUOT: { status: 507, code: 'INSUFFICIENT_STORAGE' },
  EACCES: { status: 500, code: 'INTERNAL_ERROR' },
};

describeEachDatabase('storage faults', (engine) => {
  let t: LoggedApp;
  let faulty!: FaultyStorage;
  let token: string;
  let base: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createLoggedApp({
      engine,
      level: 'warn',
      configure: (c) => (c.middleware.rate_limit.enabled = false),
      wrapStorage: (inner) => (faulty = new FaultyStorage(inner)),
    });
    base = await listen(t.app);
    await t.app.inject({ method: 'POST', url: '/api/v1/rooms/faults', payload: {} });
    token = (await enter(t.app, 'faults')).token;
  });
  afterAll(() => t.close());

  const quiet = async () => {
    faulty.fault = undefined;
    faulty.readFault = undefined;
    await t.app.lifecycle.runPass();
    const summary = await expectConsistent(t.database.db, t.config.storage.root);
    const room = await t.database.db
      .selectFrom('rooms')
      .select('current_size')
      .where('name', '=', 'faults')
      .executeTakeFirstOrThrow();
    return { ...summary, current_size: room.current_size };
  };

  for (const fault of ['ENOSPC', 'EDQUOT', 'EACCES'] as const) {
    describe(fault, () => {
      it(`one-shot upload → ${EXPECTED[fault].status}, nothing kept`, async () => {
        const before = await quiet();
        faulty.fault = fault;
        const body = multipart([
          { name: 'ok-first.bin', content: randomBytes(4 * 1024) },
          { name: 'big.bin', content: randomBytes(256 * 1024) },
        ]);
        // The first small file fits under failAfter, the second fails part-way.
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/faults/contents',
          headers: { ...auth(), ...body.headers },
          payload: body.payload,
        });
        expectError(res, EXPECTED[fault].status, EXPECTED[fault].code);
        expect(res.body).not.toMatch(/\/tmp|errno|syscall/);
        const after = await quiet();
        expect(after.current_size).toBe(before.current_size);
        expect(after.contents).toBe(before.contents);
        expect(after.files).toBe(before.files);
      });

      it(`two-step upload (prepare + reservation) → ${EXPECTED[fault].status}, reservation released`, async () => {
        const before = await quiet();
        const content = randomBytes(128 * 1024);
        const prepared = await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/faults/contents/prepare',
          headers: auth(),
          payload: { files: [{ name: 'two.bin', size: content.length }] },
        });
        expect(prepared.statusCode, prepared.body).toBe(200);
        const id = prepared.json<{ reservation_id: number }>().reservation_id;
        faulty.fault = fault;
        const body = multipart([{ name: 'two.bin', content }]);
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/v1/rooms/faults/contents?reservation_id=${id}`,
          headers: { ...auth(), ...body.headers },
          payload: body.payload,
        });
        expectError(res, EXPECTED[fault].status, EXPECTED[fault].code);
        const after = await quiet();
        expect(after.current_size).toBe(before.current_size);
        expect(after.reservations).toBe(before.reservations);
        expect(after.files).toBe(before.files);
      });

      it(`tus PATCH → ${EXPECTED[fault].status} envelope, offset consistent, upload resumes`, async () => {
        const before = await quiet();
        const content = randomBytes(96 * 1024);
        const created = await fetch(`${base}/api/v1/rooms/faults/uploads`, {
          method: 'POST',
          headers: { ...auth(), 'tus-resumable': '1.0.0', 'upload-length': String(content.length) },
        });
        expect(created.status).toBe(201);
        const location = new URL(created.headers.get('location')!, base).toString();
        faulty.fault = fault;
        const patch = await fetch(location, {
          method: 'PATCH',
          headers: {
            ...auth(),
            'tus-resumable': '1.0.0',
            'upload-offset': '0',
            'content-type': 'application/offset+octet-stream',
          },
          body: content,
        });
        expect(patch.status, await patch.clone().text()).toBe(EXPECTED[fault].status);
        expectEnvelope(await patch.text(), EXPECTED[fault].status, EXPECTED[fault].code);
        faulty.fault = undefined;
        // The upload is still there and resumes from what the store really holds.
        const head = await fetch(location, {
          method: 'HEAD',
          headers: { ...auth(), 'tus-resumable': '1.0.0' },
        });
        expect(head.status).toBe(200);
        const offset = Number(head.headers.get('upload-offset'));
        expect(offset).toBeLessThan(content.length);
        const rest = await fetch(location, {
          method: 'PATCH',
          headers: {
            ...auth(),
            'tus-resumable': '1.0.0',
            'upload-offset': String(offset),
            'content-type': 'application/offset+octet-stream',
          },
          body: content.subarray(offset),
        });
        expect(rest.status).toBe(204);
        const after = await quiet();
        expect(after.contents).toBe(before.contents + 1);
        expect(after.current_size).toBe(before.current_size + content.length);
      });

      it(`download with unreadable storage → 5xx envelope, process keeps serving`, async () => {
        const body = multipart([{ name: 'read.bin', content: Buffer.from('readable') }]);
        const up = await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/faults/contents',
          headers: { ...auth(), ...body.headers },
          payload: body.payload,
        });
        const id = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
        faulty.readFault = fault;
        const res = await t.app.inject({ url: `/api/v1/contents/${id}`, headers: auth() });
        expect(res.statusCode).toBeGreaterThanOrEqual(500);
        expectError(res, res.statusCode, res.statusCode === 507 ? 'INSUFFICIENT_STORAGE' : 'INTERNAL_ERROR');
        faulty.readFault = undefined;
        const ok = await t.app.inject({ url: `/api/v1/contents/${id}`, headers: auth() });
        expect(ok.body).toBe('readable');
        await quiet();
      });
    });
  }

  it('the error log names the fault without leaking paths to clients', () => {
    const errors = t.logs.errors();
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).toMatch(/EACCES|ENOSPC|EDQUOT/);
  });
});
