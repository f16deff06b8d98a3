// Elizabeth web, standalone mode: serves the Next.js standalone build and proxies `/api/*`
// (HTTP, streaming uploads/downloads, and the WebSocket upgrade) to the backend, so a browser
// that can reach only this port gets the whole app. No dependencies beyond Node itself.
//
//   PORT                   public port (default 4001)
//   ELIZABETH_WEB_HOST     bind address (default 127.0.0.1; use 0.0.0.0 in containers)
//   ELIZABETH_BACKEND_URL  backend origin, read at runtime (default http://127.0.0.1:4092)
//   ELIZABETH_WEB_CSP      Content-Security-Policy of the pages (default: the API server's default);
//                          the sha256 hashes of each page's inline scripts are added to `script-src`
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.PORT || 4001);
const HOST = process.env.ELIZABETH_WEB_HOST || '127.0.0.1';
const BACKEND = new URL(process.env.ELIZABETH_BACKEND_URL || 'http://127.0.0.1:4092');
const STANDALONE = join(here, '.next', 'standalone', 'apps', 'web', 'server.js');

/** Same policy as the API server sends with the static export (`app.middleware.security`). */
const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; " +
  "frame-src 'self' blob:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
const BASE_CSP = process.env.ELIZABETH_WEB_CSP || DEFAULT_CSP;
const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;

/** The base policy with the hashes of the page's inline scripts added to `script-src` (no 'unsafe-inline'). */
function cspForHtml(html, basePolicy = BASE_CSP) {
  const hashes = new Set();
  for (const match of html.matchAll(INLINE_SCRIPT)) {
    const content = match[1] ?? '';
    if (content.trim() === '') continue;
    hashes.add(`'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`);
  }
  const directives = basePolicy
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
  if (hashes.size === 0) return directives.join('; ');
  const extra = [...hashes].join(' ');
  const index = directives.findIndex((d) => d === 'script-src' || d.startsWith('script-src '));
  if (index === -1) directives.push(`script-src 'self' ${extra}`);
  else directives[index] = `${directives[index]} ${extra}`;
  return directives.join('; ');
}

function decode(body, encoding) {
  switch ((encoding ?? '').toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'br':
      return brotliDecompressSync(body);
    case 'deflate':
      return inflateSync(body);
    default:
      return body;
  }
}

/** Buffers an HTML page from Next (pages are small), adds its CSP and the security headers, sends it. */
function sendPage(answer, res, headers) {
  const chunks = [];
  answer.on('data', (chunk) => chunks.push(chunk));
  answer.on('error', () => res.destroy());
  answer.on('end', () => {
    let body;
    try {
      body = decode(Buffer.concat(chunks), headers['content-encoding']);
    } catch {
      res.destroy();
      return;
    }
    delete headers['content-encoding'];
    delete headers['content-length'];
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, {
      ...PAGE_HEADERS,
      ...headers,
      'content-security-policy': cspForHtml(body.toString('utf8')),
      'content-length': body.length,
    });
    res.end(body);
  });
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function log(message) {
  process.stdout.write(`[elizabeth-web] ${message}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`Next.js did not start on port ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function forwardedHeaders(req, target) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  const remote = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for']
    ? `${req.headers['x-forwarded-for']}, ${remote}`
    : remote;
  headers['x-forwarded-proto'] ??= req.socket.encrypted ? 'https' : 'http';
  headers['x-forwarded-host'] ??= req.headers.host ?? '';
  headers.host = target.host;
  return headers;
}

function apiError(res, status, code, message) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, status } });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Streams a request to `target` and the answer back; nothing is buffered (large uploads and downloads). */
function proxy(req, res, target, isApi) {
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(
    {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port || (target.protocol === 'https:' ? 443 : 80),
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req, target),
    },
    (answer) => {
      const headers = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
      }
      // A 304 or HEAD has no body to hash; its headers must not replace the cached page's policy.
      const page = answer.statusCode !== 304 && req.method !== 'HEAD';
      if (!isApi && page && /^text\/html\b/i.test(String(headers['content-type'] ?? ''))) {
        sendPage(answer, res, headers);
        return;
      }
      if (!isApi) headers['x-content-type-options'] ??= 'nosniff';
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    },
  );
  upstream.on('error', (error) => {
    if (isApi)
      apiError(res, 503, 'SERVICE_UNAVAILABLE', `The Elizabeth server at ${BACKEND.origin} is not reachable`);
    else apiError(res, 502, 'INTERNAL_ERROR', error.message);
  });
  req.on('aborted', () => upstream.destroy());
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Forwards a WebSocket (or any) upgrade as raw bytes after replaying the request head. */
function tunnel(req, socket, head, target) {
  const port = Number(target.port || (target.protocol === 'https:' || target.protocol === 'wss:' ? 443 : 80));
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const upstream = secure
    ? tlsConnect({ host: target.hostname, port, servername: target.hostname })
    : netConnect(port, target.hostname);
  const ready = secure ? 'secureConnect' : 'connect';
  upstream.once(ready, () => {
    const headers = forwardedHeaders(req, target);
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const item of Array.isArray(value) ? value : [value]) lines += `${name}: ${item}\r\n`;
    }
    upstream.write(`${lines}\r\n`);
    if (head?.length) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  const close = () => {
    socket.destroy();
    upstream.destroy();
  };
  upstream.on('error', () => {
    if (socket.writable)
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    close();
  });
  socket.on('error', close);
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}

function isApiPath(url) {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

async function main() {
  if (!existsSync(STANDALONE)) {
    log(`missing ${STANDALONE}. Build it first: npm run build:standalone -w @elizabeth/web`);
    process.exit(1);
  }
  const internalPort = await freePort();
  // The Next standalone server reads these on import; it must listen on loopback only.
  process.env.PORT = String(internalPort);
  process.env.HOSTNAME = '127.0.0.1';
  process.env.NODE_ENV = 'production';
  await import(pathToFileURL(STANDALONE).href);
  await waitForPort(internalPort, 30_000);
  const next = new URL(`http://127.0.0.1:${internalPort}`);

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (isApiPath(url)) proxy(req, res, BACKEND, true);
    else proxy(req, res, next, false);
  });
  server.on('upgrade', (req, socket, head) =>
    tunnel(req, socket, head, isApiPath(req.url ?? '/') ? BACKEND : next),
  );
  server.requestTimeout = 0; // uploads of any size
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  server.listen(PORT, HOST, () => log(`listening on http://${HOST}:${PORT} (API → ${BACKEND.origin})`));

  const stop = () => {
    server.close();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
