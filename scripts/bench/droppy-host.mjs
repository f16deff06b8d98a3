#!/usr/bin/env node
// Runs droppy the way its README's "API" section does (as a module behind a plain node:http
// server) rather than `droppy start`: droppy 10.0.0's standalone start crashes on Node >= 20
// (it passes a number to fs.writeFile for its pid file). Usage:
//   node droppy-host.mjs <path to droppy.js or its package dir> <port> <config dir> <files dir>
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [droppyPath, portText, configdir, filesdir] = process.argv.slice(2);
const packageDir = droppyPath.endsWith('.js') ? dirname(droppyPath) : droppyPath;
const require = createRequire(join(packageDir, 'package.json'));
const droppy = require(join(packageDir, 'index.js'));
// As a module droppy takes its options from the call, not from <config dir>/config.json.
const options = JSON.parse(readFileSync(join(configdir, 'config.json'), 'utf8'));
const { onRequest } = droppy({ ...options, configdir, filesdir });
const server = http.createServer((req, res) => {
  // droppy 10.0.0 predates Node 16's IncomingMessage 'close' (now emitted once the body has been
  // read, not only on an abort): when a large upload's body is read before its multipart parser
  // is done, droppy answers "Upload cancelled", then answers again when the parser finishes and
  // crashes on the second setHeader. Ignoring headers set after the answer keeps it alive; the
  // bench times an upload until every byte is in the file, and checks the bytes by downloading.
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => (res.headersSent ? res : setHeader(name, value));
  onRequest(req, res);
});
server.listen(Number(portText), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
