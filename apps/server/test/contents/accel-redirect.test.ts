/**
 * `storage.local.accel_redirect`: real nginx in front of the server. An authorised download is
 * answered by the server with `X-Accel-Redirect` only, and nginx sends the stored bytes (with
 * the file's name, ranges and the safe headers); an unauthorised request gets neither the
 * bytes nor the redirect, and the internal location cannot be asked for directly.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createContentsApp,
  type ContentsTestApp,
  listen,
  sha256,
  uploadOneShot,
} from '../support/contents.js';
import { createRoom, enter } from '../support/rooms.js';
import { freePort } from '../server/ports.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const INTERNAL = '/_elizabeth_files/';
/** nginx started by root drops its workers to `nobody`, who cannot read the test's temp dirs. */
const ROOT_USER = process.getuid?.() === 0 ? 'user root root;' : '';

if (!NGINX)
  console.warn('[skip] X-Accel-Redirect test: nginx is not installed (apt-get install nginx-light)');

describe.skipIf(!NGINX)('downloads through nginx with storage.local.accel_redirect', () => {
  let t: ContentsTestApp;
  let nginx: ChildProcess;
  let prefix: string;
  let proxy: string;
  let token: string;
  let id: number;
  const bytes = randomBytes(3 * 1024 * 1024 + 17);

  beforeAll(async () => {
    t = await createContentsApp({ configure: (c) => (c.storage.local.accel_redirect = INTERNAL) });
    const upstream = await listen(t.app);
    await createRoom(t.app, 'accel-room');
    token = (await enter(t.app, 'accel-room')).token;
    const uploaded = await uploadOneShot(t.app, 'accel-room', token, [
      { name: 'report final.pdf', content: bytes, type: 'application/pdf' },
    ]);
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    id = uploaded.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;

    prefix = mkdtempSync(join(tmpdir(), 'elz-nginx-'));
    mkdirSync(join(prefix, 'logs'));
    const port = await freePort();
    // The same internal location as docs/DEPLOYMENT.md shows.
    writeFileSync(
      join(prefix, 'nginx.conf'),
      `daemon off;
${ROOT_USER}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_buffering off;
    }
    location ${INTERNAL} {
      internal;
      alias ${t.config.storage.root}/;
      add_header X-Content-Type-Options nosniff always;
      add_header Content-Security-Policy sandbox always;
    }
  }
}
`,
    );
    const check = spawnSync(NGINX!, ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf')], {
      encoding: 'utf8',
    });
    expect(check.status, check.stderr).toBe(0);
    nginx = spawn(NGINX!, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
    proxy = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${proxy}/api/v1/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('nginx did not come up');
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await t?.close();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  it('the server answers an authorised GET with X-Accel-Redirect and no bytes', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}?token=${token}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-accel-redirect']).toMatch(new RegExp(`^${INTERNAL}rooms/\\d+/[0-9a-f-]{36}$`));
    expect(res.rawPayload.length).toBe(0);
    expect(res.headers['content-disposition']).toContain('attachment');
  });

  it('nginx serves the authorised download: right bytes, name and safe headers; ranges', async () => {
    const res = await fetch(`${proxy}/api/v1/contents/${id}?token=${token}`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(bytes.length);
    expect(sha256(body)).toBe(sha256(bytes));
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename=.*report/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(res.headers.get('x-accel-redirect')).toBeNull();
    // nginx's own static-file ETag (mtime-size in hex), not the server's (id-size-created): the
    // bytes came from nginx, not through the proxy.
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);

    const part = await fetch(`${proxy}/api/v1/contents/${id}?token=${token}`, {
      headers: { range: 'bytes=100-199' },
    });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(100, 200));
  });

  it('an unauthorised request gets neither the bytes nor the redirect', async () => {
    for (const url of [
      `${proxy}/api/v1/contents/${id}`,
      `${proxy}/api/v1/contents/${id}?token=not-a-token`,
    ]) {
      const res = await fetch(url);
      expect(res.status).toBe(401);
      expect(res.headers.get('x-accel-redirect')).toBeNull();
      const text = await res.text();
      expect(text.length).toBeLessThan(500);
      expect(text).toContain('"error"');
    }
    // The internal location itself is not reachable from outside.
    const key = (await t.app.inject({ method: 'GET', url: `/api/v1/contents/${id}?token=${token}` })).headers[
      'x-accel-redirect'
    ] as string;
    const direct = await fetch(`${proxy}${key}`);
    expect(direct.status).toBe(404);
    expect((await direct.arrayBuffer()).byteLength).toBeLessThan(1000);
  });
});
