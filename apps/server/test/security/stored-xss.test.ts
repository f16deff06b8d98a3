/**
 * Stored XSS and hostile file names (QUALITY.md "Security"): uploaded HTML/SVG/JS is served
 * with nosniff, a sandbox CSP and as an attachment (inline only on request, still sandboxed);
 * hostile file names are stored without path effects and round-trip through
 * `Content-Disposition`; Markdown/HTML in messages is stored and returned as plain text.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { uploadOneShot } from '../support/contents.js';
import { bearer, createRoom, enter } from '../support/rooms.js';
import { createLoggedApp, type LoggedApp } from './logged-app.js';

const ACTIVE = [
  { name: 'page.html', type: 'text/html', content: '<script>parent.pwned=1</script>' },
  {
    name: 'image.svg',
    type: 'image/svg+xml',
    content: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
  },
  { name: 'app.js', type: 'text/javascript', content: 'alert(document.cookie)' },
  {
    name: 'page.xhtml',
    type: 'application/xhtml+xml',
    content: '<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>',
  },
  { name: 'sniff.txt', type: 'text/plain', content: '<html><script>alert(1)</script></html>' },
  { name: 'noext', type: '', content: '<script>alert(1)</script>' },
];

const HOSTILE_NAMES = [
  '../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  'a/b/c.txt',
  'quote"d\'name.txt',
  'semi;colon, comma.txt',
  'tab\tand\u0001ctrl.txt',
  'ünïcödé-文件-🦊.txt',
  '\u202Etxt.exe',
  '%2e%2e%2fx.txt',
  ' leading and trailing .txt ',
  'CON',
  '.htaccess',
];

/** The file name a browser takes from Content-Disposition: RFC 5987 `filename*`, else `filename`. */
function filenameOf(header: string | undefined): string {
  expect(header).toBeDefined();
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(header!);
  if (extended) return decodeURIComponent(extended[1]!);
  const quoted = /filename="((?:[^"\\]|\\.)*)"/i.exec(header!);
  return quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : '';
}

describe('stored XSS and hostile file names', () => {
  let t: LoggedApp;
  let token: string;
  beforeAll(async () => {
    t = await createLoggedApp({ level: 'warn', configure: (c) => (c.middleware.rate_limit.enabled = false) });
    await createRoom(t.app, 'xss-room');
    token = (await enter(t.app, 'xss-room')).token;
  });
  afterAll(() => t.close());

  for (const file of ACTIVE) {
    it(`${file.name} (${file.type || 'no type'}) never renders on the app's origin`, async () => {
      const up = await uploadOneShot(t.app, 'xss-room', token, [
        { name: file.name, content: Buffer.from(file.content), ...(file.type ? { type: file.type } : {}) },
      ]);
      expect(up.statusCode, up.body).toBe(201);
      const id = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
      for (const disposition of [undefined, 'inline', 'attachment']) {
        const res = await t.app.inject({
          url: `/api/v1/contents/${id}${disposition ? `?disposition=${disposition}` : ''}`,
          headers: bearer(token),
        });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        const csp = String(res.headers['content-security-policy'] ?? '');
        expect(csp.split(/[;,]/).map((d) => d.trim())).toContain('sandbox');
        const cd = String(res.headers['content-disposition']);
        expect(cd.startsWith(disposition === 'inline' ? 'inline' : 'attachment'), cd).toBe(true);
        expect(res.body).toBe(file.content);
      }
    });
  }

  it('hostile file names are stored as names only and round-trip in Content-Disposition', async () => {
    const up = await uploadOneShot(
      t.app,
      'xss-room',
      token,
      HOSTILE_NAMES.map((name, i) => ({ name, content: Buffer.from(`file ${i}`) })),
    );
    expect(up.statusCode, up.body).toBe(201);
    const uploaded = up.json<{ uploaded: Array<{ id: number; file_name: string }> }>().uploaded;
    expect(uploaded).toHaveLength(HOSTILE_NAMES.length);
    for (const [i, content] of uploaded.entries()) {
      // No path component and no control character survives in the stored name.
      expect(content.file_name).not.toMatch(/[/\\]/);
      expect([...content.file_name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toBe(
        false,
      );
      expect(content.file_name.length).toBeGreaterThan(0);
      const res = await t.app.inject({ url: `/api/v1/contents/${content.id}`, headers: bearer(token) });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(`file ${i}`);
      const header = String(res.headers['content-disposition']);
      // Header-safe: no CR/LF or other control characters, Latin-1 at most (the RFC 6266
      // filename* carries anything beyond it).
      expect(header).toMatch(/^[\x20-\x7e\xa0-\xff]+$/);
      if (/[^\x20-\x7e]/.test(content.file_name)) expect(header).toContain("filename*=UTF-8''");
      expect(filenameOf(header)).toBe(content.file_name);
    }
    // Nothing was written outside the storage root.
    const root = t.config.storage.root;
    expect(existsSync(join(root, '..', 'etc'))).toBe(false);
    expect(
      readdirSync(join(root, '..')).filter((n) => n.includes('passwd') || n.includes('win.ini')),
    ).toEqual([]);
  });

  it('renaming to a hostile name is sanitised the same way', async () => {
    const up = await uploadOneShot(t.app, 'xss-room', token, [{ name: 'ok.txt', content: Buffer.from('x') }]);
    const id = up.json<{ uploaded: Array<{ id: number }> }>().uploaded[0]!.id;
    const res = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/rooms/xss-room/contents/${id}`,
      headers: bearer(token),
      payload: { file_name: '../../x\r\nSet-Cookie: a=b.txt' },
    });
    expect(res.statusCode, res.body).toBeLessThan(500);
    if (res.statusCode === 200) {
      const name = res.json<{ updated: { file_name: string } }>().updated.file_name;
      expect(name).not.toMatch(/[/\\\r\n]/);
      const download = await t.app.inject({ url: `/api/v1/contents/${id}`, headers: bearer(token) });
      expect(download.headers['set-cookie']).toBeUndefined();
      expect(filenameOf(String(download.headers['content-disposition']))).toBe(name);
    }
  });

  it('Markdown and HTML in messages are stored and returned as the text sent', async () => {
    const text = '# t\n<script>alert(1)</script>\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rooms/xss-room/messages',
      headers: bearer(token),
      payload: { text },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const list = await t.app.inject({ url: '/api/v1/rooms/xss-room/messages', headers: bearer(token) });
    const items = list.json<{ items: Array<{ text: string }> }>().items;
    expect(items.map((m) => m.text)).toContain(text);
  });

  it('link contents refuse script URLs', async () => {
    for (const url of [
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'vbscript:x',
      'JaVaScRiPt:alert(1)',
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms/xss-room/contents/url',
        headers: bearer(token),
        payload: { url, name: 'x' },
      });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
    }
  });
});
