import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cspForHtml } from '../../src/http/web-app.js';
import { createTestApp, type TestApp } from '../support/app.js';

const INLINE = "document.documentElement.dataset.theme='dark'";
const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

describe('cspForHtml', () => {
  it('adds the hash of every inline script to script-src and ignores external ones', () => {
    const html = `<script>${INLINE}</script><script src="/_next/a.js"></script><script type="module">let a=1</script>`;
    const csp = cspForHtml(html, "default-src 'self'; script-src 'self'; object-src 'none'");
    expect(csp).toBe(
      `default-src 'self'; script-src 'self' ${sha(INLINE)} ${sha('let a=1')}; object-src 'none'`,
    );
  });

  it('leaves the policy as it is for a page without inline scripts', () => {
    expect(cspForHtml('<p>hi</p>', "default-src 'self'; script-src 'self'")).toBe(
      "default-src 'self'; script-src 'self'",
    );
  });
});

describe('serving the built web app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      configure(config) {
        const root = join(config.server.data_dir, '..', 'web-out');
        mkdirSync(join(root, '_next/static/chunks'), { recursive: true });
        writeFileSync(
          join(root, 'index.html'),
          `<!doctype html><title>home</title><script>${INLINE}</script>`,
        );
        writeFileSync(join(root, '_.html'), '<!doctype html><title>room page</title>');
        writeFileSync(join(root, '_next/static/chunks/app.js'), 'console.log(1)');
        writeFileSync(join(root, 'favicon.ico'), 'icon');
        config.server.web_root = root;
      },
    });
  });
  afterAll(() => t.close());

  it('serves index.html at / with its inline script hashed into the CSP', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<title>home</title>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain(sha(INLINE));
    expect(csp).not.toContain("'unsafe-inline' 'sha");
    expect(csp).toMatch(/script-src 'self' 'sha256-/);
  });

  it('serves the room template for a room path, Unicode included', async () => {
    for (const url of ['/my-room', `/${encodeURIComponent('项目-2026')}`, '/some/deeper/path']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('room page');
    }
  });

  it('serves hashed assets with an immutable cache policy', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/_next/static/chunks/app.js' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('console.log(1)');
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('keeps /api/ paths out of the web app', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v2/whatever' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('does not let a path escape the web root', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/..%2F..%2Fpackage.json' });
    expect(res.body).not.toContain('"workspaces"');
  });
});

describe('web app not built', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('answers 503 with a page that says how to build it', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/some-room' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
  });
});
