// Bundles the built server (dist/, by tsc) with its dependencies into two module graphs, each
// parsed as a few large files instead of hundreds of small ones. Run by `npm run build` after tsc;
// src/index.ts loads a bundle when it exists and the tsc modules otherwise.
//
// - dist/client-bundle/: the terminal client (cli.mjs plus a chunk per command-specific import:
//   tus-js-client for push, ws and qrcode for tail/open…), so each command parses only what it
//   runs.
// - dist/server-bundle/: `elizabeth serve` and the operator commands (cli.mjs plus chunks).
//   Start-up CPU about halves against ~1 100 separate modules (docs/BENCHMARKS.md, issue 15).
//   Left outside (loaded from node_modules as before): native addons, what the default server
//   loads only on a later request or in another configuration (PostgreSQL, Redis, S3, tus, the
//   Scalar page, archiver, Fastify's ajv / fast-json-stringify compilers, which ours replace) and
//   pino, whose transports start worker threads by file name.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** esbuild options shared by both bundles. */
const common = {
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (commander, fastify…) call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

async function bundle(entry, outdir, options = {}) {
  rmSync(outdir, { recursive: true, force: true });
  await build({ ...common, entryPoints: { cli: `${dist}${entry}` }, outdir, ...options });
}

await bundle('client/cli.js', `${dist}client-bundle`);
await bundle('cli.js', `${dist}server-bundle`, {
  // Whitespace and syntax only: names stay readable in stack traces and Fastify's plugin names.
  minifyWhitespace: true,
  minifySyntax: true,
  external: [
    'better-sqlite3',
    '@elizabeth/malloc-trim',
    '@node-rs/argon2',
    'pg',
    'ioredis',
    '@aws-sdk/*',
    '@smithy/*',
    '@tus/*',
    '@scalar/*',
    'archiver',
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    'ajv',
    'ajv-formats',
    'fast-json-stringify',
    'pino',
    'pino-pretty',
  ],
});
