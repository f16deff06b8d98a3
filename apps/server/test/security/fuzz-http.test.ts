/**
 * Property-based fuzzing of every HTTP route the OpenAPI document lists (so a new route is
 * fuzzed without touching this file): random and boundary path segments, queries, JSON bodies,
 * multipart bodies, tus headers and credentials. Never a 5xx, never a crash, always the
 * envelope. Fixed seed; `ELIZABETH_FUZZ_RUNS` for a long local run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestApp, type TestApp } from '../support/app.js';
import { expectQuotaInvariant, multipart } from '../support/contents.js';
import { createRoom, enter } from '../support/rooms.js';
import {
  bodyArb,
  contentTypeArb,
  expectNoServerError,
  fuzzParameters,
  HOSTILE_SEGMENTS,
  queryValueArb,
  segmentArb,
} from './fuzz-support.js';

const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

interface Operation {
  method: Method;
  path: string;
  pathParams: string[];
  query: string[];
  bodyKeys: string[];
  hasBody: boolean;
}

interface Fixture {
  room: string;
  token: string;
  refresh: string;
  otherToken: string;
  jti: string;
  roomId: number;
  messageId: number;
  fileId: number;
  uploadId: string;
  reservationId: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document walked generically
type Json = any;

function resolve(doc: Json, schema: Json): Json {
  let current = schema;
  for (let i = 0; i < 10 && current?.$ref; i++) {
    const path = String(current.$ref).replace(/^#\//, '').split('/');
    current = path.reduce((node: Json, key) => node?.[key], doc);
  }
  return current;
}

function bodyKeys(doc: Json, schema: Json): string[] {
  const resolved = resolve(doc, schema);
  if (!resolved) return [];
  const keys = new Set<string>(Object.keys(resolved.properties ?? {}));
  for (const part of [...(resolved.anyOf ?? []), ...(resolved.oneOf ?? []), ...(resolved.allOf ?? [])]) {
    bodyKeys(doc, part).forEach((k) => keys.add(k));
  }
  return [...keys];
}

function operations(doc: Json): Operation[] {
  const list: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
      const params: Json[] = (op.parameters ?? []).map((p: Json) => resolve(doc, p));
      const json = op.requestBody?.content?.['application/json']?.schema;
      list.push({
        method: method.toUpperCase() as Method,
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => String(p.name)),
        query: params.filter((p) => p.in === 'query').map((p) => String(p.name)),
        bodyKeys: json ? bodyKeys(doc, json) : [],
        hasBody: Boolean(op.requestBody) || ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method.toUpperCase()),
      });
    }
  }
  return list;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Multipart bodies: well-formed with hostile names and fields, or broken framing. */
const multipartArb = fc.oneof(
  fc
    .record({
      files: fc.array(
        fc.record({
          name: fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 60 }),
            fc.constantFrom('../../etc/passwd', '..', '.', '', 'a\u0000b', 'x'.repeat(400), 'CON', '"q".txt'),
          ),
          content: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          type: fc.constantFrom('text/html', 'image/svg+xml', 'application/octet-stream', '', 'x/../y'),
          field: fc.constantFrom('file', 'files', 'other', ''),
        }),
        { maxLength: 3 },
      ),
      fields: fc.dictionary(fc.constantFrom('a', 'file', 'name', ''), fc.string({ maxLength: 20 }), {
        maxKeys: 2,
      }),
    })
    .map(({ files, fields }) => multipart(files, fields)),
  fc
    .tuple(
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom('b', 'x'.repeat(70), 'y'.repeat(300), '"q"', ''),
      fc.constantFrom('; filename="a.txt"\r\n\r\n', '', '\r\n\r\n'),
    )
    .map(([a, boundary, tail]) => ({
      payload: Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"${tail}`),
        Buffer.from(a),
      ]),
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })),
);

/** tus request headers: each one absent, valid or hostile. */
const tusHeadersArb = fc.record(
  {
    'tus-resumable': fc.constantFrom('1.0.0', '0.2.2', '', 'x'),
    'upload-length': fc.oneof(
      fc.constantFrom('0', '1', '-1', '1e3', '', 'abc', '99999999999999999999', '9007199254740993'),
      fc.nat().map(String),
    ),
    'upload-offset': fc.oneof(fc.constantFrom('0', '-1', '', 'x', '5'), fc.nat().map(String)),
    'upload-metadata': fc.oneof(
      fc.constantFrom('', 'filename', 'filename !!!', `filename ${b64('../x')},filetype ${b64('text/html')}`),
      fc
        .tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 20 }))
        .map(([n, t]) => `filename ${b64(n)},filetype ${b64(t)}`),
      fc.string({ maxLength: 40 }),
    ),
    'upload-defer-length': fc.constantFrom('1', '0', 'x'),
    // text/plain and application/json bodies on tus routes are covered by tus-media-types.test.ts.
    'content-type': fc.constantFrom(
      'application/offset+octet-stream',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
    ),
  },
  { requiredKeys: [] },
);

describe('fuzzing every route of the OpenAPI document', () => {
  let t: TestApp;
  let ops: Operation[];
  let counter = 0;

  beforeAll(async () => {
    t = await createTestApp({
      configure: (config) => {
        config.middleware.rate_limit.enabled = false;
        config.admin.token = ADMIN_TOKEN;
        config.metrics.enabled = true;
      },
    });
    const res = await t.app.inject({ url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    ops = operations(res.json());
  });
  afterAll(() => t.close());

  /** A fresh room with a token, a message, a file, a tus upload and a reservation. */
  async function fixture(): Promise<Fixture> {
    const room = `fz-${++counter}`;
    await createRoom(t.app, room);
    const session = await enter(t.app, room, { with_refresh_token: true });
    const other = `fz-o${counter}`;
    await createRoom(t.app, other);
    const otherSession = await enter(t.app, other);
    const auth = { authorization: `Bearer ${session.token}` };
    const msg = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/messages`,
      headers: auth,
      payload: { text: 'hello' },
    });
    const body = multipart([{ name: 'a.txt', content: Buffer.from('abc') }]);
    const file = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/contents`,
      headers: { ...auth, ...body.headers },
      payload: body.payload,
    });
    const upload = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/uploads`,
      headers: {
        ...auth,
        'tus-resumable': '1.0.0',
        'upload-length': '10',
        'upload-metadata': `filename ${b64('u')}`,
      },
    });
    const prepared = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/contents/prepare`,
      headers: auth,
      payload: { files: [{ name: 'p.txt', size: 3 }] },
    });
    expect(msg.statusCode, msg.body).toBe(201);
    expect(file.statusCode, file.body).toBe(201);
    expect(upload.statusCode, upload.body).toBe(201);
    expect(prepared.statusCode, prepared.body).toBe(200);
    const location = String(upload.headers.location ?? '');
    return {
      room,
      token: session.token,
      refresh: session.refresh_token!,
      otherToken: otherSession.token,
      jti: session.claims.jti,
      roomId: session.claims.room_id,
      messageId: msg.json<{ message: { id: number } }>().message.id,
      fileId: file.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id,
      uploadId: location.split('/').pop() ?? 'none',
      reservationId: String(prepared.json<{ reservation_id: number }>().reservation_id),
    };
  }

  const validFor = (f: Fixture): Record<string, unknown[]> => ({
    name: [f.room],
    slug: [f.room],
    id: [String(f.fileId), String(f.messageId), f.uploadId],
    jti: [f.jti],
    token: [f.token, f.refresh, f.otherToken],
    access_token: [f.token, f.refresh],
    refresh_token: [f.refresh, f.token],
    ids: [[f.fileId], [f.messageId, f.fileId], String(f.fileId)],
    reservation_id: [f.reservationId],
    password: ['secret-pass'],
    text: ['hi', '  '],
    url: ['https://example.com/', 'javascript:alert(1)'],
    files: [[{ name: 'a.txt', size: 3 }], [{ name: '../x', size: -1 }]],
    file_name: ['b.txt', '../../x', ''],
    age_seconds: [3600, 1],
    max_size: [1, 10 ** 15],
    max_times_entered: [1, 0],
    edit: [true],
    share: [false],
    delete: [true],
  });

  const authArb = (f: Fixture, admin: boolean) =>
    fc.constantFrom<Record<string, string>>(
      { authorization: `Bearer ${f.token}` },
      { authorization: `Bearer ${f.token}` },
      {},
      { authorization: `Bearer ${f.refresh}` },
      { authorization: `Bearer ${f.otherToken}` },
      { authorization: 'Bearer ' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: `Bearer ${f.token.slice(0, -3)}abc` },
      admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : { authorization: 'Bearer x.y.z' },
    );

  it('covers the routes of every module', () => {
    const paths = new Set(ops.map((o) => o.path));
    for (const p of [
      '/api/v1/rooms/{name}',
      '/api/v1/rooms/{name}/tokens',
      '/api/v1/rooms/{name}/contents',
      '/api/v1/contents/{id}',
      '/api/v1/rooms/{name}/uploads/{id}',
      '/api/v1/rooms/{name}/archive',
      '/api/v1/auth/refresh',
      '/api/v1/admin/rooms',
    ]) {
      expect(paths, p).toContain(p);
    }
  });

  it(
    'every operation × every hostile path segment (deterministic boundaries)',
    { timeout: 120_000 },
    async () => {
      const f = await fixture();
      for (const op of ops.filter((o) => o.pathParams.length > 0)) {
        for (const segment of HOSTILE_SEGMENTS) {
          for (const target of op.pathParams) {
            let url = op.path;
            for (const p of op.pathParams) {
              const valid = p === 'name' || p === 'slug' ? f.room : p === 'jti' ? f.jti : String(f.fileId);
              url = url.replace(`{${p}}`, p === target ? segment : encodeURIComponent(valid));
            }
            const admin = op.path.includes('/admin');
            const res = await t.app.inject({
              method: op.method,
              url,
              headers: {
                authorization: `Bearer ${admin ? ADMIN_TOKEN : f.token}`,
                ...(op.hasBody && !op.path.includes('/uploads')
                  ? { 'content-type': 'application/json' }
                  : {}),
                ...(op.path.includes('/uploads') ? { 'tus-resumable': '1.0.0', 'upload-length': '3' } : {}),
              },
              ...(op.hasBody && op.method !== 'HEAD' && op.method !== 'GET' ? { payload: '{}' } : {}),
            });
            expectNoServerError(res, op.method, `${op.method} ${url.slice(0, 200)}`);
          }
        }
      }
    },
  );

  it('every operation: never a 5xx, always the envelope', { timeout: 600_000 }, async () => {
    for (const op of ops) {
      const isMultipart = op.method === 'POST' && op.path === '/api/v1/rooms/{name}/contents';
      const isTus = op.path.includes('/uploads');
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
          const f = await fixture();
          const valid = validFor(f);
          // Derive everything else from one seed so a failure shrinks to something readable.
          const [sample] = fc.sample(
            fc.record({
              segments: fc.tuple(
                ...op.pathParams.map((p) =>
                  segmentArb((valid[p] ?? ['x']).map((v) => encodeURIComponent(String(v)))),
                ),
              ),
              query: fc.dictionary(
                fc.constantFrom(...op.query, 'extra', '__proto__', 'token'),
                queryValueArb(op.query.flatMap((q) => valid[q] ?? []).map(String)),
                { maxKeys: op.query.length + 1 },
              ),
              body: bodyArb(op.bodyKeys, valid),
              contentType: contentTypeArb,
              auth: authArb(f, op.path.includes('/admin') || op.path === '/metrics'),
              form: multipartArb,
              tus: tusHeadersArb,
            }),
            { seed, numRuns: 1 },
          );
          const s = sample!;
          let url = op.path;
          op.pathParams.forEach((p, i) => {
            url = url.replace(`{${p}}`, s.segments[i] ?? 'x');
          });
          const qs = Object.entries(s.query)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join('&');
          if (qs) url += `?${qs}`;
          const headers: Record<string, string> = { ...s.auth };
          let payload: string | Buffer | undefined;
          if (isMultipart) {
            Object.assign(headers, s.form.headers);
            payload = s.form.payload;
          } else if (isTus) {
            Object.assign(headers, s.tus);
            if (op.method === 'PATCH') payload = Buffer.from('0123456789').subarray(0, seed % 12);
          } else if (op.hasBody && op.method !== 'GET' && op.method !== 'HEAD') {
            headers['content-type'] = s.contentType;
            payload = s.body;
          }
          const res = await t.app.inject({
            method: op.method,
            url,
            headers,
            ...(payload !== undefined ? { payload } : {}),
          });
          expectNoServerError(
            res,
            op.method,
            `${op.method} ${url} ${JSON.stringify(headers)} ${String(payload).slice(0, 200)}`,
          );
          // Whatever was accepted or refused, the room's accounting still adds up.
          const room = await t.database.db
            .selectFrom('rooms')
            .select('id')
            .where('id', '=', f.roomId)
            .executeTakeFirst();
          if (room) await expectQuotaInvariant(t.database, f.roomId);
        }),
        fuzzParameters(),
      );
    }
  });
});
