/**
 * Issue 16 item 12, tus edge answers: a concatenation request is refused with a 4xx envelope
 * (it used to answer 500), `Tus-Extension` lists only what the server does (it advertised
 * `creation-defer-length`, which it refuses), and an absolute-form request target cannot make
 * `Location` point to another host.
 */
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listen } from '../support/contents.js';
import { createRoom, enter, expectError } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

/** One raw HTTP/1.1 exchange over a socket: the request line is sent exactly as given. */
function rawRequest(base: string, head: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(head));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      // One answer with no body (201) is all this test waits for.
      if (text.includes('\r\n\r\n')) socket.end();
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('tus edge answers (issue 16 item 12)', () => {
  let t: LoggedApp;
  let token: string;
  let base: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn' });
    await createRoom(t.app, 'tus-edges');
    token = (await enter(t.app, 'tus-edges')).token;
    base = await listen(t.app);
  });
  afterAll(() => t.close());

  const tusHeaders = () => ({ authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' });

  it('Upload-Concat (concatenation, unsupported) → 400 envelope, not 500', async () => {
    for (const concat of ['partial', 'final;/api/v1/rooms/tus-edges/uploads/abc']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/tus-edges/uploads',
        headers: { ...tusHeaders(), 'upload-length': '4', 'upload-concat': concat },
      });
      expectError(res, 400, 'VALIDATION_ERROR');
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(/concat/i);
    }
    expect(t.logs.errors()).toEqual([]);
  });

  it('Tus-Extension lists only what works: no creation-defer-length, which is refused', async () => {
    const options = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/rooms/tus-edges/uploads' });
    expect(options.statusCode).toBe(204);
    const extensions = String(options.headers['tus-extension']).split(',');
    expect(extensions).toEqual(
      expect.arrayContaining(['creation', 'creation-with-upload', 'termination', 'expiration']),
    );
    expect(extensions).not.toContain('creation-defer-length');
    expect(extensions).not.toContain('concatenation');
    // And what is not listed is refused with a 4xx envelope.
    const deferred = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/tus-edges/uploads',
      headers: { ...tusHeaders(), 'upload-defer-length': '1' },
    });
    expect(deferred.statusCode).toBeGreaterThanOrEqual(400);
    expect(deferred.statusCode).toBeLessThan(500);
    expect(deferred.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_ERROR');
  });

  it('an absolute-form request target does not choose the host of Location', async () => {
    const answer = await rawRequest(
      base,
      'POST http://evil.example/api/v1/rooms/tus-edges/uploads HTTP/1.1\r\n' +
        `Host: ${new URL(base).host}\r\n` +
        `Authorization: Bearer ${token}\r\n` +
        'Tus-Resumable: 1.0.0\r\nUpload-Length: 4\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    const location = /^location: (.*)$/im.exec(answer)?.[1]?.trim();
    expect(location).toMatch(/^\/api\/v1\/rooms\/tus-edges\/uploads\/[0-9a-f]{32}$/);
    expect(answer).not.toContain('evil.example');
  });
});
