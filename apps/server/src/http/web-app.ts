import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` puts the static export of apps/web (same depth from src and dist). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/out', import.meta.url));

/** File names a static export may use for the room page template, in order of preference. */
const ROOM_TEMPLATES = ['_.html', '_/index.html', 'room.html'];

interface HtmlPage {
  body: Buffer;
  csp: string;
}

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;

/** Adds the hashes of a page's inline scripts to the `script-src` of the configured policy. */
export function cspForHtml(html: string, basePolicy: string): string {
  const hashes = new Set<string>();
  for (const match of html.matchAll(INLINE_SCRIPT)) {
    const content = match[1] ?? '';
    if (content.trim() === '') continue;
    hashes.add(`'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`);
  }
  const extra = [...hashes].join(' ');
  const directives = basePolicy
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
  const index = directives.findIndex((d) => d.startsWith('script-src ') || d === 'script-src');
  if (!extra) return directives.join('; ');
  if (index === -1) directives.push(`script-src 'self' ${extra}`);
  else directives[index] = `${directives[index]} ${extra}`;
  return directives.join('; ');
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function listHtml(root: string, dir = root, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) listHtml(root, full, out);
    else if (entry.name.endsWith('.html')) out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elizabeth</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>The web app is not built</h1><p>The API is running under <code>/api/v1</code>, but the browser
app has not been built. Run <code>npm run build</code> (or <code>npm start</code>, which builds what is
missing) and restart the server.</p></body></html>`;

export interface WebAppOptions {
  root: string;
  contentSecurityPolicy: string;
}

/**
 * Serves the static export of the web app: assets as files, `/` as index.html, and the room
 * page template for any other path (the client reads the room name from the URL). HTML pages
 * get a CSP whose `script-src` lists the hashes of their inline scripts, so no
 * `'unsafe-inline'` is needed.
 */
export async function registerWebApp(
  app: FastifyInstance,
  options: WebAppOptions,
): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply> {
  const { root } = options;
  const built = existsSync(join(root, 'index.html')) && statSync(root).isDirectory();
  if (!built) {
    app.log.warn({ root }, 'web app not built: serving a notice page instead');
    return (_request, reply) =>
      reply
        .code(503)
        .type('text/html; charset=utf-8')
        .header('Cache-Control', 'no-store')
        .send(NOT_BUILT_PAGE);
  }

  const pages = new Map<string, HtmlPage>();
  for (const file of listHtml(root)) {
    const body = readFileSync(join(root, file));
    pages.set(file, { body, csp: cspForHtml(body.toString('utf8'), options.contentSecurityPolicy) });
  }
  const roomTemplate = ROOM_TEMPLATES.map((name) => pages.get(name)).find(Boolean) ?? pages.get('index.html');

  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: false,
    serveDotFiles: false,
    cacheControl: false,
    allowedPath: (pathName) => !pathName.endsWith('.html') && !pathName.endsWith('.map'),
    setHeaders(reply, filePath) {
      const immutable = filePath.includes(`${sep}_next${sep}static${sep}`);
      reply.header(
        'Cache-Control',
        immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      );
    },
  });

  const sendPage = (reply: FastifyReply, page: HtmlPage) =>
    reply
      .code(200)
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', page.csp)
      .send(page.body);

  return (request, reply) => {
    const path = safeDecode(request.url.split('?')[0] ?? '/').replace(/^\/+/, '');
    const page =
      path === ''
        ? pages.get('index.html')
        : (pages.get(path) ??
          pages.get(`${path}.html`) ??
          pages.get(`${path.replace(/\/$/, '')}/index.html`));
    return sendPage(reply, page ?? roomTemplate!);
  };
}
