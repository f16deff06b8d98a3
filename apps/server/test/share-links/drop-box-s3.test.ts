/**
 * Issue 19: the drop box on S3 storage. An EDIT-only link uploads with both upload paths (tus
 * and one-shot) into the bucket, the manager gets the bytes, and the visitors can neither list,
 * download nor hear of any content, their own included, also after opening the link again.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  type ContentsTestApp,
  createContentsApp,
  expectQuotaInvariant,
  listen,
  sha256,
  uploadOneShot,
} from '../support/contents.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { WsClient } from '../realtime/ws-client.js';

const MiB = 1024 * 1024;
const EDIT = 2;

describeEachDatabase('drop box on S3 storage', (engine) => {
  let s3: TestS3;
  let t: ContentsTestApp;
  let base: string;
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    s3 = await startS3();
    t = await createContentsApp({ engine, s3: s3.settings });
    base = await listen(t.app);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await t?.close();
    await s3?.close();
  });

  it('EDIT-only visitors upload (tus and one-shot) into the bucket but cannot list, download or hear of it', async () => {
    const room = 'drop-s3';
    const roomId = (await createRoom(t.app, room, { max_size: 64 * MiB })).id;
    const manager = (await enter(t.app, room)).token;
    const ws = `${base.replace(/^http/, 'ws')}/api/v1/ws`;
    const managerSocket = await WsClient.connect(ws, manager, room);
    sockets.push(managerSocket);
    const created = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${room}/share-links`,
      headers: bearer(manager),
      payload: { permission: EDIT },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { secret } = created.json<{ secret: string }>();
    const openLink = async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/share-links/open',
        payload: { secret },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ token: string; claims: { permission: number } }>();
    };
    const visitor = await openLink();
    expect(visitor.claims.permission).toBe(EDIT);

    // One-shot upload.
    const small = randomBytes(200 * 1024);
    const up = await uploadOneShot(t.app, room, visitor.token, [{ name: 'one-shot.bin', content: small }]);
    expect(up.statusCode, up.body).toBe(201);
    const oneShotId = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;

    // tus upload in two PATCHes (the second one finishes it).
    const big = randomBytes(6 * MiB + 5);
    const tusHeaders = { authorization: `Bearer ${visitor.token}`, 'tus-resumable': '1.0.0' };
    const creation = await fetch(`${base}/api/v1/rooms/${room}/uploads`, {
      method: 'POST',
      headers: {
        ...tusHeaders,
        'upload-length': String(big.length),
        'upload-metadata': `filename ${Buffer.from('tus.bin').toString('base64')}`,
      },
    });
    expect(creation.status).toBe(201);
    const location = creation.headers.get('location')!;
    let offset = 0;
    for (const end of [5 * MiB, big.length]) {
      const res = await fetch(`${base}${location}`, {
        method: 'PATCH',
        headers: {
          ...tusHeaders,
          'upload-offset': String(offset),
          'content-type': 'application/offset+octet-stream',
        },
        body: big.subarray(offset, end),
      });
      expect(res.status, await res.text()).toBe(204);
      offset = end;
    }

    // The manager hears of both and gets the bytes from the bucket.
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) ids.push((await managerSocket.next('content_created')).payload.content.id);
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/rooms/${room}/contents`,
      headers: bearer(manager),
    });
    const files = listed.json<Array<{ id: number; file_name: string }>>();
    const tusId = files.find((c) => c.file_name === 'tus.bin')!.id;
    expect(ids.sort()).toEqual([oneShotId, tusId].sort());
    for (const [id, bytes] of [
      [oneShotId, small],
      [tusId, big],
    ] as const) {
      const res = await fetch(`${base}/api/v1/contents/${id}?token=${manager}`);
      expect(res.status).toBe(200);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(bytes));
    }
    expect(await expectQuotaInvariant(t.database, roomId)).toBe(small.length + big.length);

    // Neither the visitor's session nor a new one after "a reload" sees anything, its own included.
    for (const attempt of [visitor, await openLink()]) {
      for (const url of [
        `/api/v1/rooms/${room}/contents`,
        `/api/v1/rooms/${room}/messages`,
        `/api/v1/rooms/${room}/archive`,
        `/api/v1/contents/${oneShotId}`,
        `/api/v1/contents/${tusId}`,
      ]) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(attempt.token) });
        expectError(res, 403, 'PERMISSION_DENIED');
      }
      const socket = await WsClient.open(ws);
      sockets.push(socket);
      socket.send({ message_type: 'connect', payload: { token: attempt.token, room_name: room } });
      expect((await socket.expectClose()).code).toBe(4403);
      expect(socket.frames.filter((f) => f.message_type.startsWith('content_'))).toHaveLength(0);
    }
  }, 120_000);
});
