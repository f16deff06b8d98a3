import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { freePort } from './ports.js';

const bin = fileURLToPath(new URL('../../bin/elizabeth.js', import.meta.url));
const dist = (path: string) => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url));
/** A server bundle made after tsc's last build: bin/elizabeth.js runs it (src/index.ts). */
const bundled =
  existsSync(dist('server-bundle/cli.mjs')) &&
  existsSync(dist('.tsbuildinfo')) &&
  statSync(dist('server-bundle/cli.mjs')).mtimeMs >= statSync(dist('.tsbuildinfo')).mtimeMs;

/**
 * Records every module the process loads, ES modules (a resolve hook) and CommonJS ones
 * (`Module._load`), one URL or path a line, into $LOADED_MODULES_FILE.
 */
const RECORDER = `
import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.LOADED_MODULES_FILE;
register('data:text/javascript,' + encodeURIComponent(
  "import { appendFileSync } from 'node:fs';" +
  "export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(" +
  JSON.stringify(out) + ", r.url + '\\\\n'); return r; }"));
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const loaded = load.apply(this, arguments);
  try { appendFileSync(out, Module._resolveFilename(request, parent) + '\\n'); } catch {}
  return loaded;
};
`;

/**
 * Modules the default server (SQLite, local storage, no Redis) needs only for a later request or
 * another configuration, never at start: Fastify's ajv and fast-json-stringify compilers (ours
 * are zod's), PostgreSQL, Redis, the AWS SDK, the Scalar reference page and tus. Each one loaded
 * at start costs idle RSS (docs/BENCHMARKS.md, issue 15).
 */
const NOT_AT_START = [
  '/node_modules/@fastify/ajv-compiler/',
  '/node_modules/@fastify/fast-json-stringify-compiler/',
  '/node_modules/ajv/',
  '/node_modules/pg/',
  '/node_modules/ioredis/',
  '/node_modules/@aws-sdk/',
  '/node_modules/@scalar/',
  '/node_modules/@tus/',
];

describe('elizabeth serve on the default configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elz-idle-modules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads no module it needs only later before its first request', async () => {
    const recorder = join(dir, 'recorder.mjs');
    const loadedFile = join(dir, 'loaded.txt');
    writeFileSync(recorder, RECORDER);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(recorder).href,
        bin,
        'serve',
        '--port',
        String(port),
        '--listen-addr',
        '127.0.0.1',
      ],
      {
        cwd: dir,
        stdio: 'ignore',
        env: {
          ...process.env,
          LOADED_MODULES_FILE: loadedFile,
          DATA_DIR: join(dir, 'data'),
          JWT_SECRET: 'a'.repeat(64),
          CONFIG_FILE: '',
        },
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let healthy = false;
      for (let i = 0; i < 600 && !healthy && child.exitCode === null; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then(
          (res) => res.ok,
          () => false,
        );
        if (!healthy) await sleep(100);
      }
      expect(healthy).toBe(true);
      // What the server does right after listening (releasing abandoned uploads, the scheduler).
      await sleep(500);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(existsSync(loadedFile)).toBe(true);
    const loaded = readFileSync(loadedFile, 'utf8').split('\n');
    if (bundled) {
      // `npm run build` bundles the server (scripts/bundle.mjs): it runs from the bundle, not
      // from tsc's modules, and what the bundle leaves outside still loads from node_modules.
      expect(loaded.some((line) => line.includes('/dist/server-bundle/cli.mjs'))).toBe(true);
      expect(loaded.filter((line) => /\/dist\/(app|cli|main)\.js$/.test(line))).toEqual([]);
      expect(loaded.some((line) => line.includes('/node_modules/better-sqlite3/'))).toBe(true);
    } else {
      // The recorder sees both kinds of module: fastify is CommonJS, kysely an ES module.
      expect(loaded.some((line) => line.includes('/node_modules/fastify/'))).toBe(true);
      expect(loaded.some((line) => line.includes('/node_modules/kysely/'))).toBe(true);
    }
    const early = NOT_AT_START.map((part) => [part, loaded.find((line) => line.includes(part))]).filter(
      ([, line]) => line !== undefined,
    );
    expect(early).toEqual([]);
  }, 90_000);
});
