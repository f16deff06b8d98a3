#!/usr/bin/env node
// The bare servers every measurement is compared with, run as their own process like the real
// server. Usage: node baseline-server.mjs <http|fastify> <port> <dir> [download-file]
//   http:    POST /files              -> 201, creates an empty file, Location: /files/<id>
//            PATCH /files/<id>        -> 204, appends the request body to that file (tus-sized chunks)
//            PUT /files/<id>          -> 201, writes the whole body (the same multipart body ours gets,
//                                        unparsed) to a new file
//            GET /download            -> 200, streams [download-file] with Content-Length
//   fastify: POST /messages           -> 201, a JSON object echoing the text (bare Fastify route)
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const [kind, portText, dir, downloadFile] = process.argv.slice(2);
const port = Number(portText);

if (kind === 'http') {
  let next = 0;
  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === 'POST' && req.url === '/files') {
        const id = String(++next);
        await pipeline(req, createWriteStream(join(dir, id)));
        res.writeHead(201, { location: `/files/${id}` }).end();
      } else if (req.method === 'PATCH' && req.url?.startsWith('/files/')) {
        const id = req.url.slice('/files/'.length);
        await pipeline(req, createWriteStream(join(dir, id), { flags: 'a' }));
        res.writeHead(204).end();
      } else if (req.method === 'PUT' && req.url?.startsWith('/files/')) {
        const id = req.url.slice('/files/'.length);
        await pipeline(req, createWriteStream(join(dir, id)));
        res.writeHead(201).end();
      } else if (req.method === 'GET' && req.url === '/download' && downloadFile) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': statSync(downloadFile).size,
        });
        await pipeline(createReadStream(downloadFile), res);
      } else if (req.method === 'GET' && req.url === '/health') {
        res.writeHead(200).end('ok');
      } else {
        res.writeHead(404).end();
      }
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    }
  });
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (kind === 'fastify') {
  // Resolve Fastify the way the server does, from its own workspace.
  const require = createRequire(fileURLToPath(new URL('../../apps/server/package.json', import.meta.url)));
  const { default: Fastify } = await import(require.resolve('fastify'));
  const app = Fastify({ logger: false });
  let id = 0;
  app.post('/messages', async (request, reply) => {
    const text = /** @type {{text?: string}} */ (request.body)?.text ?? '';
    return reply
      .code(201)
      .send({ message: { id: ++id, content_type: 'text', text, created_at: new Date().toISOString() } });
  });
  app.get('/health', async () => ({ status: 'ok' }));
  await app.listen({ host: '127.0.0.1', port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
} else {
  console.error(`unknown baseline kind ${kind}`);
  process.exit(2);
}
