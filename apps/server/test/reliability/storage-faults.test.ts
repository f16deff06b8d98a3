/**
 * QUALITY.md "storage full (ENOSPC) → 507, nothing partial kept", on both backends. Local: a
 * fault-injecting BlobStorage wrapper around the real local storage makes writes fail part-way
 * (after some bytes reached the disk) with ENOSPC, EDQUOT or EACCES, and reads fail on
 * downloads. S3: the test S3 server itself answers uploads and downloads with the errors a full
 * MinIO (507 XMinioStorageFull), a bucket without write permission (403 AccessDenied) or an
 * overloaded S3 (503 SlowDown) sends, so the real SDK client, its retries and the multipart
 * abort run. On one-shot, two-step and tus uploads: answers are 507 (full), 503 (try again) or
 * 500 (refused) envelopes — the process survives — and afterwards no bytes, open multipart
 * upload, reservation or quota of the failed upload remain, and tus uploads resume.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';

import type { BlobStorage, ByteRange, PutOptions, TusStoreBinding } from '../../src/storage/blob-storage.js';
import { createLoggedApp, type LoggedApp } from '../security/logged-app.js';
import { listen, multipart } from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { enter, expectError } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { bucketObjects } from '../support/stored.js';
import { expectConsistent, localObjects } from './invariants.js';

type DiskFault = 'ENOSPC' | 'EDQUOT' | 'EACCES';
type Fault = DiskFault | undefined;

function errnoError(code: DiskFault): NodeJS.ErrnoException {
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
async function* failAfter(source: Readable, limit: number, fault: DiskFault) {
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
  list() {
    return this.inner.list();
  }
  dropTusMetadata(key: string) {
    return this.inner.dropTusMetadata(key);
  }
  async createTusStore(options: { expirationMs: number }): Promise<TusStoreBinding> {
    const binding = await this.inner.createTusStore(options);
    const store = binding.store;
    // As fs would: the store's own write fails, the request stream is left to the caller.
    const failing = (readable: Readable) => {
      const fault = this.fault;
      if (!fault) return readable;
      let seen = 0;
      const limit = this.failAfter;
      const transform = new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          if (seen > limit) done(errnoError(fault));
          else done(null, chunk);
        },
      });
      return readable.pipe(transform);
    };
    const write = store.write.bind(store);
    store.write = (readable: Readable, id: string, offset: number) => write(failing(readable), id, offset);
    // The PATCH fast path writes through the binding, not the tus store.
    const append = binding.append.bind(binding);
    binding.append = (id, body, offset, signal) => append(id, failing(body), offset, signal);
    return binding;
  }
}

function expectEnvelope(body: string, status: number, code: string): void {
  const parsed = JSON.parse(body) as { error: { status: number; code: string } };
  expect(parsed.error.status).toBe(status);
  expect(parsed.error.code).toBe(code);
}

interface Expected {
  status: number;
  code: string;
}
const FULL: Expected = { status: 507, code: 'INSUFFICIENT_STORAGE' };
const REFUSED: Expected = { status: 500, code: 'INTERNAL_ERROR' };
const UNAVAILABLE: Expected = { status: 503, code: 'SERVICE_UNAVAILABLE' };

/** How a backend is made to fail, and what the client must hear then. */
interface Backend {
  name: 'local' | 's3';
  /** Fault name → the answer it must give. */
  faults: Record<string, Expected>;
  /**
   * Writes fail from now on. Local: every write after 16 KiB of it reached the disk. S3: every
   * object or part upload after the first `writesBefore` (which still succeed).
   */
  arm(fault: string, writesBefore?: number): void;
  armRead(fault: string): void;
  disarm(): void;
  /** What the storage holds, for the invariants; S3 also asserts no multipart upload is left open. */
  stored(): Promise<Map<string, number>>;
}

const S3_FAULTS = {
  XMinioStorageFull: { status: 507, code: 'XMinioStorageFull' },
  AccessDenied: { status: 403, code: 'AccessDenied' },
  SlowDown: { status: 503, code: 'SlowDown' },
} as const;

for (const backendName of ['local', 's3'] as const) {
  describeEachDatabase(`storage faults on ${backendName} storage`, (engine) => {
    let t: LoggedApp;
    let s3: TestS3 | undefined;
    let backend!: Backend;
    let token: string;
    let base: string;
    const auth = () => ({ authorization: `Bearer ${token}` });

    let consoleWarn: MockInstance<typeof console.warn>;
    beforeAll(async () => {
      consoleWarn = vi.spyOn(console, 'warn');
      let faulty: FaultyStorage | undefined;
      if (backendName === 's3') s3 = await startS3();
      t = await createLoggedApp({
        engine,
        level: 'warn',
        configure: (c) => {
          c.middleware.rate_limit.enabled = false;
          if (s3) {
            c.storage.backend = 's3';
            c.storage.s3 = s3.settings;
          }
        },
        ...(s3 ? {} : { wrapStorage: (inner: BlobStorage) => (faulty = new FaultyStorage(inner)) }),
      });
      backend = s3
        ? {
            name: 's3',
            faults: { XMinioStorageFull: FULL, AccessDenied: REFUSED, SlowDown: UNAVAILABLE },
            arm: (fault, writesBefore = 0) =>
              Object.assign(s3!.faults, {
                write: S3_FAULTS[fault as keyof typeof S3_FAULTS],
                writesBeforeFault: writesBefore,
              }),
            armRead: (fault) => (s3!.faults.read = S3_FAULTS[fault as keyof typeof S3_FAULTS]),
            disarm: () => {
              for (const key of Object.keys(s3!.faults)) delete s3!.faults[key as keyof TestS3['faults']];
            },
            stored: async () => {
              expect(await s3!.openUploads(), 'multipart uploads left open').toEqual([]);
              return bucketObjects(s3!.settings);
            },
          }
        : {
            name: 'local',
            faults: { ENOSPC: FULL, EDQUOT: FULL, EACCES: REFUSED },
            arm: (fault) => (faulty!.fault = fault as DiskFault),
            armRead: (fault) => (faulty!.readFault = fault as DiskFault),
            disarm: () => {
              faulty!.fault = undefined;
              faulty!.readFault = undefined;
            },
            stored: () => localObjects(t.config.storage.root)(),
          };
      base = await listen(t.app);
      await t.app.inject({ method: 'POST', url: '/api/v1/rooms/faults', payload: {} });
      token = (await enter(t.app, 'faults')).token;
    });
    afterAll(async () => {
      consoleWarn.mockRestore();
      await t.close();
      await s3?.close();
    });

    const quiet = async () => {
      backend.disarm();
      await t.app.lifecycle.runPass();
      const summary = await expectConsistent(t.database.db, () => backend.stored());
      const room = await t.database.db
        .selectFrom('rooms')
        .select('current_size')
        .where('name', '=', 'faults')
        .executeTakeFirstOrThrow();
      return { ...summary, current_size: room.current_size };
    };

    const faultNames = backendName === 's3' ? Object.keys(S3_FAULTS) : ['ENOSPC', 'EDQUOT', 'EACCES'];
    for (const fault of faultNames) {
      describe(fault, () => {
        const expected = () => backend.faults[fault]!;

        it(`one-shot upload → its status, nothing kept`, async () => {
          const before = await quiet();
          // The first small file is stored, the second fails part-way (local) or at its upload (S3).
          backend.arm(fault, 1);
          const body = multipart([
            { name: 'ok-first.bin', content: randomBytes(4 * 1024) },
            { name: 'big.bin', content: randomBytes(256 * 1024) },
          ]);
          const res = await t.app.inject({
            method: 'POST',
            url: '/api/v1/rooms/faults/contents',
            headers: { ...auth(), ...body.headers },
            payload: body.payload,
          });
          expectError(res, expected().status, expected().code);
          expect(res.body).not.toMatch(/\/tmp|errno|syscall|injected/);
          const after = await quiet();
          expect(after.current_size).toBe(before.current_size);
          expect(after.contents).toBe(before.contents);
          expect(after.files).toBe(before.files);
        });

        it(`two-step upload (prepare + reservation) → its status, reservation released`, async () => {
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
          backend.arm(fault);
          const body = multipart([{ name: 'two.bin', content }]);
          const res = await t.app.inject({
            method: 'POST',
            url: `/api/v1/rooms/faults/contents?reservation_id=${id}`,
            headers: { ...auth(), ...body.headers },
            payload: body.payload,
          });
          expectError(res, expected().status, expected().code);
          const after = await quiet();
          expect(after.current_size).toBe(before.current_size);
          expect(after.reservations).toBe(before.reservations);
          expect(after.files).toBe(before.files);
        });

        it(`tus PATCH → its status as an envelope, offset consistent, upload resumes`, async () => {
          const before = await quiet();
          const content = randomBytes(96 * 1024);
          const created = await fetch(`${base}/api/v1/rooms/faults/uploads`, {
            method: 'POST',
            headers: { ...auth(), 'tus-resumable': '1.0.0', 'upload-length': String(content.length) },
          });
          expect(created.status).toBe(201);
          const location = new URL(created.headers.get('location')!, base).toString();
          backend.arm(fault);
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
          expect(patch.status, await patch.clone().text()).toBe(expected().status);
          expectEnvelope(await patch.text(), expected().status, expected().code);
          backend.disarm();
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
          backend.armRead(fault);
          const res = await t.app.inject({ url: `/api/v1/contents/${id}`, headers: auth() });
          expect(res.statusCode).toBeGreaterThanOrEqual(500);
          expectError(res, expected().status, expected().code);
          backend.disarm();
          const ok = await t.app.inject({ url: `/api/v1/contents/${id}`, headers: auth() });
          expect(ok.body).toBe('readable');
          await quiet();
        });
      });
    }

    if (backendName === 's3') {
      it('a multipart upload failing after its first part is aborted: no part is left in the bucket', async () => {
        const before = await quiet();
        // Two 8 MiB parts and a rest: the first part is stored, the second is refused.
        backend.arm('XMinioStorageFull', 1);
        const body = multipart([{ name: 'large.bin', content: randomBytes(20 * 1024 * 1024) }]);
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/rooms/faults/contents',
          headers: { ...auth(), ...body.headers },
          payload: body.payload,
        });
        expectError(res, FULL.status, FULL.code);
        // quiet() asserts that no multipart upload is left open.
        const after = await quiet();
        expect(after.current_size).toBe(before.current_size);
        expect(after.files).toBe(before.files);
      });
    }

    it('nothing went to the console around the log (the S3 SDK has a logger of its own)', () => {
      expect(consoleWarn.mock.calls).toEqual([]);
    });

    it('the error log names the fault without leaking paths to clients', () => {
      const errors = t.logs.errors();
      expect(errors.length).toBeGreaterThan(0);
      expect(JSON.stringify(errors)).toMatch(
        backendName === 's3' ? /XMinioStorageFull|AccessDenied|SlowDown/ : /EACCES|ENOSPC|EDQUOT/,
      );
    });
  });
}
