import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ContentView, UploadResponse } from '@elizabeth/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  type ContentsTestApp,
  createContentsApp,
  expectQuotaInvariant,
  multipart,
  sha256,
  uploadOneShot,
} from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';

const MiB = 1024 * 1024;

/** The name a client gets from `filename*` (RFC 6266 / 8187). */
function dispositionName(header: string | undefined): string {
  const match = /filename\*=UTF-8''([^;]+)/i.exec(header ?? '');
  if (match) return decodeURIComponent(match[1]!);
  return /filename="((?:[^"\\]|\\.)*)"/.exec(header ?? '')?.[1]?.replace(/\\(.)/g, '$1') ?? '';
}

function fileSuite(setup: () => Promise<ContentsTestApp>) {
  let t: ContentsTestApp;
  let token: string;
  let roomId: number;
  const room = 'files-room';
  const url = (path: string) => `/api/v1/rooms/${room}${path}`;

  beforeAll(async () => {
    t = await setup();
    roomId = (await createRoom(t.app, room, { max_size: 20 * MiB })).id;
    token = (await enter(t.app, room)).token;
  });
  afterAll(() => t?.close());

  const download = (id: number, headers: Record<string, string> = {}, query = '') =>
    t.app.inject({
      method: 'GET',
      url: `/api/v1/contents/${id}${query}`,
      headers: { ...bearer(token), ...headers },
    });

  it('round-trips 0 B, 1 B and 5 MiB exactly (one-shot multipart)', async () => {
    for (const size of [0, 1, 5 * MiB]) {
      const content = randomBytes(size);
      const res = await uploadOneShot(t.app, room, token, [{ name: `blob-${size}.bin`, content }]);
      expect(res.statusCode, res.body).toBe(201);
      const { uploaded, current_size } = UploadResponse.parse(res.json());
      expect(uploaded[0]).toMatchObject({ content_type: 'file', size, file_name: `blob-${size}.bin` });
      expect(current_size).toBe(await expectQuotaInvariant(t.database, roomId));
      const got = await download(uploaded[0]!.id);
      expect(got.statusCode).toBe(200);
      expect(got.headers['content-length']).toBe(String(size));
      expect(got.headers['accept-ranges']).toBe('bytes');
      expect(sha256(got.rawPayload)).toBe(sha256(content));
      const head = await t.app.inject({
        method: 'HEAD',
        url: `/api/v1/contents/${uploaded[0]!.id}?token=${token}`,
      });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe(String(size));
      expect(head.rawPayload.length).toBe(0);
    }
    expect(t.events.filter((e) => e.type === 'content_created')).toHaveLength(3);
  });

  it('serves single ranges at the edges and 416 beyond the end', async () => {
    const content = randomBytes(1000);
    const id = (await uploadOneShot(t.app, room, token, [{ name: 'r.bin', content }])).json().uploaded[0].id;
    const range = async (value: string) => download(id, { range: value });
    const first = await range('bytes=0-0');
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe('bytes 0-0/1000');
    expect(first.rawPayload).toEqual(content.subarray(0, 1));
    const last = await range('bytes=999-999');
    expect(last.headers['content-range']).toBe('bytes 999-999/1000');
    expect(last.rawPayload).toEqual(content.subarray(999));
    const suffix = await range('bytes=-10');
    expect(suffix.statusCode).toBe(206);
    expect(suffix.rawPayload).toEqual(content.subarray(990));
    const open = await range('bytes=990-');
    expect(open.rawPayload).toEqual(content.subarray(990));
    const clipped = await range('bytes=500-5000');
    expect(clipped.headers['content-range']).toBe('bytes 500-999/1000');
    expect(clipped.headers['content-length']).toBe('500');
    const beyond = await range('bytes=1000-');
    expectError(beyond, 416, 'RANGE_NOT_SATISFIABLE');
    expect(beyond.headers['content-range']).toBe('bytes */1000');
    // Several ranges: the whole file (RFC 9110 lets a server ignore Range).
    expect((await range('bytes=0-1,5-6')).statusCode).toBe(200);

    const etag = first.headers.etag as string;
    expect((await download(id, { 'if-none-match': etag })).statusCode).toBe(304);
    const stale = await download(id, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.length).toBe(1000);
    const lastModified = first.headers['last-modified'] as string;
    expect((await download(id, { 'if-modified-since': lastModified })).statusCode).toBe(304);

    const empty = (
      await uploadOneShot(t.app, room, token, [{ name: 'empty', content: Buffer.alloc(0) }])
    ).json().uploaded[0].id;
    expectError(await download(empty, { range: 'bytes=0-' }), 416, 'RANGE_NOT_SATISFIABLE');
  });

  it('keeps hostile names harmless and round-trips them through Content-Disposition', async () => {
    // Multipart part names arrive as the client wrote them (UTF-8), quotes escaped.
    const body = multipart([{ name: 'x', content: Buffer.from('x') }]);
    const raw = '报告 \\"final\\" 2026.pdf';
    const payload = Buffer.from(
      body.payload.toString('utf8').replace('filename="x"', `filename="${raw}"`),
      'utf8',
    );
    const res = await t.app.inject({
      method: 'POST',
      url: url('/contents'),
      headers: { ...bearer(token), ...body.headers },
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = ContentView.parse(res.json().uploaded[0]).id;
    const stored = res.json().uploaded[0].file_name as string;
    expect(stored).toMatch(/^报告 .*final.* 2026\.pdf$/);
    expect(dispositionName((await download(id)).headers['content-disposition'] as string)).toBe(stored);

    const names: Array<[string, string]> = [
      ['../../etc/passwd', '.._.._etc_passwd'],
      ['..\\windows\\system.ini', '.._windows_system.ini'],
      ["quote\"d 'name'.txt", "quote\"d 'name'.txt"],
      ['ctrl\u0000\u0007\r\nname\u202e.txt', 'ctrlname.txt'],
      ['报告 2026 — 最终版.pdf', '报告 2026 — 最终版.pdf'],
      ['..', '__'],
    ];
    for (const [name, expected] of names) {
      const put = await t.app.inject({
        method: 'PUT',
        url: url(`/contents/${id}`),
        headers: bearer(token),
        payload: { file_name: name },
      });
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json().updated.file_name).toBe(expected);
      const header = (await download(id)).headers['content-disposition'] as string;
      expect(header.startsWith('attachment')).toBe(true);
      expect(header).not.toMatch(/[\r\n]/);
      expect(header.includes(String.fromCharCode(0))).toBe(false);
      expect(dispositionName(header)).toBe(expected);
    }
  });

  it('serves uploaded HTML as an inert attachment', async () => {
    const html = Buffer.from('<script>alert(document.cookie)</script>');
    const id = (
      await uploadOneShot(t.app, room, token, [{ name: 'evil.html', content: html, type: 'text/html' }])
    ).json().uploaded[0].id;
    const got = await download(id);
    expect(got.headers['content-type']).toMatch(/^text\/html/);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-security-policy']).toBe('sandbox');
    expect(got.headers['content-disposition']).toMatch(/^attachment;/);
    expect(got.headers['content-encoding']).toBeUndefined();
    const inline = await download(id, {}, '?disposition=inline');
    expect(inline.headers['content-disposition']).toMatch(/^inline;/);
    expect(inline.headers['content-security-policy']).toBe('sandbox');
  });

  it('needs a token of the content room to download', async () => {
    const id = (
      await uploadOneShot(t.app, room, token, [{ name: 'p.txt', content: Buffer.from('private') }])
    ).json().uploaded[0].id;
    expectError(
      await t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}` }),
      401,
      'AUTHENTICATION_FAILED',
    );
    await createRoom(t.app, 'other-room');
    const other = (await enter(t.app, 'other-room')).token;
    expectError(
      await t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}`, headers: bearer(other) }),
      401,
      'AUTHENTICATION_FAILED',
    );
    // An unused id answers like another room's: ids cannot be probed (issue 16 item 13).
    expectError(await download(987654), 401, 'AUTHENTICATION_FAILED');
  });

  it('two-step upload: prepare, upload, refuse reuse, release on failure', async () => {
    const content = randomBytes(3000);
    const prepare = (files: unknown[]) =>
      t.app.inject({
        method: 'POST',
        url: url('/contents/prepare'),
        headers: bearer(token),
        payload: { files },
      });
    const before = await expectQuotaInvariant(t.database, roomId);
    const prepared = await prepare([{ name: 'two.bin', size: 3000 }]);
    expect(prepared.statusCode, prepared.body).toBe(200);
    const { reservation_id, current_size } = prepared.json();
    expect(current_size).toBe(before + 3000);
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(before + 3000);
    const send = (id: number, name: string, bytes: Buffer) => {
      const body = multipart([{ name, content: bytes }]);
      return t.app.inject({
        method: 'POST',
        url: url(`/contents?reservation_id=${id}`),
        headers: { ...bearer(token), ...body.headers },
        payload: body.payload,
      });
    };
    const ok = await send(reservation_id, 'two.bin', content);
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().current_size).toBe(before + 3000);
    expect(sha256((await download(ok.json().uploaded[0].id)).rawPayload)).toBe(sha256(content));
    expectError(await send(reservation_id, 'two.bin', content), 409, 'CONFLICT');
    await expectQuotaInvariant(t.database, roomId);

    // A failed upload gives its reservation back.
    const second = (await prepare([{ name: 'a.bin', size: 10 }])).json().reservation_id;
    expectError(await send(second, 'other-name.bin', Buffer.alloc(10)), 400, 'VALIDATION_ERROR');
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(before + 3000);
    expectError(await send(second, 'a.bin', Buffer.alloc(10)), 404, 'NOT_FOUND');
    const third = (await prepare([{ name: 'b.bin', size: 10 }])).json().reservation_id;
    expectError(await send(third, 'b.bin', Buffer.alloc(11)), 400, 'VALIDATION_ERROR');
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(before + 3000);

    expectError(
      await prepare([
        { name: 'x', size: 1 },
        { name: 'x', size: 2 },
      ]),
      400,
      'VALIDATION_ERROR',
    );
    expectError(await prepare([{ name: 'huge', size: 100 * MiB }]), 413, 'QUOTA_EXCEEDED');
  });

  it('refuses a one-shot upload over the quota and keeps nothing', async () => {
    const used = await expectQuotaInvariant(t.database, roomId);
    const free = 20 * MiB - used;
    const res = await uploadOneShot(t.app, room, token, [
      { name: 'fits.bin', content: randomBytes(1000) },
      { name: 'too-big.bin', content: randomBytes(free) },
    ]);
    expectError(res, 413, 'QUOTA_EXCEEDED');
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(used);
    const names = (await t.app.inject({ method: 'GET', url: url('/contents'), headers: bearer(token) }))
      .json<ContentView[]>()
      .map((c) => c.file_name);
    expect(names).not.toContain('fits.bin');
    expect(
      await t.database.db
        .selectFrom('upload_reservations')
        .select('id')
        .where('consumed_at', 'is', null)
        .execute(),
    ).toEqual([]);
  });

  it('deletes stored bytes with the content', async () => {
    const res = await uploadOneShot(t.app, room, token, [{ name: 'gone.bin', content: randomBytes(100) }]);
    const id = res.json().uploaded[0].id as number;
    const row = await t.database.db
      .selectFrom('contents')
      .select('storage_key')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(await t.storage.stat(row.storage_key!)).toEqual({ size: 100 });
    const del = await t.app.inject({
      method: 'DELETE',
      url: url('/contents'),
      headers: bearer(token),
      payload: { ids: [id] },
    });
    expect(del.json()).toMatchObject({ deleted: [id], freed_size: 100 });
    expect(await t.storage.stat(row.storage_key!)).toBeUndefined();
    expect(await t.database.db.selectFrom('blob_deletions').selectAll().execute()).toEqual([]);
    await expectQuotaInvariant(t.database, roomId);
  });

  it('renames files but refuses other fields', async () => {
    const id = (
      await uploadOneShot(t.app, room, token, [{ name: 'old.txt', content: Buffer.from('x') }])
    ).json().uploaded[0].id;
    const put = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PUT', url: url(`/contents/${id}`), headers: bearer(token), payload });
    expect((await put({ file_name: 'new/name.txt' })).json().updated.file_name).toBe('new_name.txt');
    expectError(await put({ text: 'x' }), 400, 'VALIDATION_ERROR');
    expect(dispositionName((await download(id)).headers['content-disposition'] as string)).toBe(
      'new_name.txt',
    );
  });

  it('zips the room: chosen files or all, plus messages.md', async () => {
    await t.app.inject({
      method: 'POST',
      url: url('/messages'),
      headers: bearer(token),
      payload: { text: 'hello **zip**' },
    });
    await t.app.inject({
      method: 'POST',
      url: url('/contents/url'),
      headers: bearer(token),
      payload: { url: 'https://example.com', name: 'Example' },
    });
    const a = randomBytes(5000);
    const ids = [
      (await uploadOneShot(t.app, room, token, [{ name: 'same.txt', content: Buffer.from('first') }])).json()
        .uploaded[0].id,
      (await uploadOneShot(t.app, room, token, [{ name: 'same.txt', content: Buffer.from('second') }])).json()
        .uploaded[0].id,
      (await uploadOneShot(t.app, room, token, [{ name: 'a.bin', content: a }])).json().uploaded[0].id,
    ];
    const res = await t.app.inject({
      method: 'GET',
      url: url(`/archive?ids=${ids.join(',')}`),
      headers: bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    const zip = join(t.dir, 'room.zip');
    writeFileSync(zip, res.rawPayload);
    const listing = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual(['a.bin', 'messages.md', 'same (1).txt', 'same.txt']);
    expect(execFileSync('unzip', ['-p', zip, 'same.txt'], { encoding: 'utf8' })).toBe('first');
    expect(execFileSync('unzip', ['-p', zip, 'same (1).txt'], { encoding: 'utf8' })).toBe('second');
    expect(sha256(execFileSync('unzip', ['-p', zip, 'a.bin']))).toBe(sha256(a));
    const md = execFileSync('unzip', ['-p', zip, 'messages.md'], { encoding: 'utf8' });
    expect(md).toContain('hello **zip**');
    expect(md).toContain('[Example](https://example.com)');
    execFileSync('unzip', ['-t', zip]);

    const all = await t.app.inject({ method: 'GET', url: url('/archive'), headers: bearer(token) });
    writeFileSync(zip, all.rawPayload);
    const count = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').length;
    const files = (
      await t.app.inject({ method: 'GET', url: url('/contents?type=file,image'), headers: bearer(token) })
    ).json<unknown[]>().length;
    expect(count).toBe(files + 1);
  });

  it('leaves messages.md out of the zip with messages=false (a file may then use the name)', async () => {
    await t.app.inject({
      method: 'POST',
      url: url('/messages'),
      headers: bearer(token),
      payload: { text: 'not in this zip' },
    });
    const ids = [
      (await uploadOneShot(t.app, room, token, [{ name: 'one.txt', content: Buffer.from('1') }])).json()
        .uploaded[0].id,
      (
        await uploadOneShot(t.app, room, token, [{ name: 'messages.md', content: Buffer.from('# mine') }])
      ).json().uploaded[0].id,
    ];
    const zip = join(t.dir, 'no-messages.zip');
    const entries = async (query: string) => {
      const res = await t.app.inject({
        method: 'GET',
        url: url(`/archive?${query}`),
        headers: bearer(token),
      });
      expect(res.statusCode, res.body).toBe(200);
      writeFileSync(zip, res.rawPayload);
      execFileSync('unzip', ['-t', zip]);
      return execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
    };
    for (const off of ['false', '0']) {
      expect(await entries(`ids=${ids.join(',')}&messages=${off}`)).toEqual(['messages.md', 'one.txt']);
      expect(execFileSync('unzip', ['-p', zip, 'messages.md'], { encoding: 'utf8' })).toBe('# mine');
    }
    for (const on of ['true', '1']) {
      expect(await entries(`ids=${ids.join(',')}&messages=${on}`)).toEqual([
        'messages (1).md',
        'messages.md',
        'one.txt',
      ]);
      expect(execFileSync('unzip', ['-p', zip, 'messages.md'], { encoding: 'utf8' })).toContain(
        'not in this zip',
      );
    }
    const all = await entries('messages=false');
    expect(all).not.toContain('messages (1).md');
    expect(all.length).toBe(
      (
        await t.app.inject({ method: 'GET', url: url('/contents?type=file,image'), headers: bearer(token) })
      ).json<unknown[]>().length,
    );
    expectError(
      await t.app.inject({ method: 'GET', url: url('/archive?messages=no'), headers: bearer(token) }),
      400,
      'VALIDATION_ERROR',
    );
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{
      paths: Record<string, { get: { parameters: { name: string; in: string }[] } }>;
    }>();
    expect(doc.paths['/api/v1/rooms/{name}/archive']?.get.parameters).toContainEqual(
      expect.objectContaining({ name: 'messages', in: 'query' }),
    );
  });

  it('never overfills a room under 20 parallel uploads with space for 5', async () => {
    const raceRoom = `race-${Math.random().toString(36).slice(2, 8)}`;
    const created = await createRoom(t.app, raceRoom, { max_size: 5 * 2000 + 500 });
    const raceToken = (await enter(t.app, raceRoom)).token;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        uploadOneShot(t.app, raceRoom, raceToken, [{ name: `r${i}`, content: randomBytes(2000) }]),
      ),
    );
    const ok = results.filter((r) => r.statusCode === 201).length;
    for (const r of results) if (r.statusCode !== 201) expectError(r, 413, 'QUOTA_EXCEEDED');
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(5);
    expect(await expectQuotaInvariant(t.database, created.id)).toBe(ok * 2000);
  });
}

describeEachDatabase('files on local storage', (engine) => {
  fileSuite(() => createContentsApp({ engine }));
});

describeEachDatabase('files on S3 (s3rver)', (engine) => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(() => s3?.close());
  fileSuite(() => createContentsApp({ engine, s3: s3.settings }));
});
