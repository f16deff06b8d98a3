/**
 * Deterministic guards for the defects the fuzzers found (they are seed-dependent): each of
 * these inputs used to answer 500 INTERNAL_ERROR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRoom, enter, expectError } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

describe('inputs that used to answer 500', () => {
  let t: LoggedApp;
  let token: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn', configure: (c) => (c.admin.token = 'r'.repeat(32)) });
    await createRoom(t.app, 'regress');
    token = (await enter(t.app, 'regress')).token;
  });
  afterAll(() => t.close());

  const upload = (contentType: string, payload: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/regress/contents',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      payload,
    });

  it('a truncated multipart body (busboy "Unexpected end of multipart data") → 400', async () => {
    const res = await upload(
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data; name="file"abc',
    );
    expectError(res, 400, 'VALIDATION_ERROR');
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/multipart/i);
  });

  it('a part cut off inside its data → 400', async () => {
    const res = await upload(
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\npartial data',
    );
    expectError(res, 400, 'VALIDATION_ERROR');
  });

  it('a multipart boundary over 256 characters (busboy needle limit) → 4xx', async () => {
    const boundary = 'y'.repeat(300);
    const res = await upload(
      `multipart/form-data; boundary=${boundary}`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nx\r\n--${boundary}--\r\n`,
    );
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, res.body).toBeLessThan(500);
  });

  it('a path segment over the router limit (FST_ERR_MAX_PARAM_LENGTH, 414 internally) → 400, not echoed', async () => {
    for (const url of [
      `/api/v1/rooms/${'a'.repeat(2000)}`,
      `/api/v1/rooms/${'a'.repeat(2000)}/tokens`,
      `/api/v1/admin/rooms/${'a'.repeat(2000)}`,
      `/api/v1/contents/${'9'.repeat(2000)}`,
    ]) {
      for (const method of ['GET', 'DELETE', 'POST'] as const) {
        const res = await t.app.inject({
          method,
          url,
          headers: { 'content-type': 'application/json' },
          payload: '{}',
        });
        if (res.statusCode === 404 || res.statusCode === 405) continue; // no such method there
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(res.body.length).toBeLessThan(300);
      }
    }
  });

  it('logged nothing at error level', () => {
    expect(t.logs.errors()).toEqual([]);
  });
});
