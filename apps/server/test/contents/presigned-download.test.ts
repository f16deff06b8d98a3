/**
 * `storage.s3.presign_downloads_seconds`: an authorised download of an S3-stored file answers
 * 302 to a short-lived presigned URL; fetching it from S3 (s3rver) gives the right bytes, type
 * and file name. An unauthorised request gets neither the bytes nor a URL.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createContentsApp, type ContentsTestApp, sha256, uploadOneShot } from '../support/contents.js';
import { createRoom, enter } from '../support/rooms.js';
import { startS3, type TestS3 } from '../support/s3.js';

describe('downloads from S3 by presigned-URL redirect', () => {
  let s3: TestS3;
  let t: ContentsTestApp;
  let token: string;
  let id: number;
  const bytes = randomBytes(2 * 1024 * 1024 + 5);

  beforeAll(async () => {
    s3 = await startS3();
    t = await createContentsApp({ s3: { ...s3.settings, presign_downloads_seconds: 60 } });
    await createRoom(t.app, 'presign-room');
    token = (await enter(t.app, 'presign-room')).token;
    const uploaded = await uploadOneShot(t.app, 'presign-room', token, [
      { name: 'Quarterly report.pdf', content: bytes, type: 'application/pdf' },
    ]);
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    id = uploaded.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('answers 302 to a short-lived presigned URL that fetches the right bytes and name', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}?token=${token}` });
    expect(res.statusCode, res.body).toBe(302);
    expect(res.rawPayload.length).toBe(0);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = new URL(String(res.headers.location));
    expect(location.origin).toBe(s3.settings.endpoint);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(location.searchParams.get('response-content-disposition')).toMatch(/^attachment; filename=/);

    const got = await fetch(location);
    expect(got.status).toBe(200);
    const body = Buffer.from(await got.arrayBuffer());
    expect(body.length).toBe(bytes.length);
    expect(sha256(body)).toBe(sha256(bytes));
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="Quarterly report.pdf"');

    // s3rver accepts any SigV4 signature (its check is unimplemented): the signature itself is
    // the SDK signer's (@smithy/signature-v4), here only its parameters are checked.
    expect(location.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(location.search).toMatch(/[?&]x-amz-content-sha256=UNSIGNED-PAYLOAD(&|$)/i);
    expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an unauthorised request gets neither the bytes nor a URL', async () => {
    for (const url of [`/api/v1/contents/${id}`, `/api/v1/contents/${id}?token=nope`]) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(401);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).not.toContain(s3.settings.endpoint);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('AUTHENTICATION_FAILED');
    }
  });
});
