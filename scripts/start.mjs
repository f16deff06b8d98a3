#!/usr/bin/env node
// `npm start`: build whatever is missing or out of date, then run the server in this process
// (so signals reach it directly). Extra arguments go to `elizabeth serve`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed; not starting the server.`);
    process.exit(result.status ?? 1);
  }
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === '.next' || entry === 'out') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

// tsc -b is incremental: a no-op when the server and protocol builds are current.
run(npx, ['tsc', '-b', 'apps/server']);
// The bundles of the server and the client (apps/server/scripts/bundle.mjs), remade when tsc
// wrote something after them (the server would run the unbundled modules otherwise).
const dist = join(root, 'apps/server/dist');
const bundledAt = Math.min(
  ...['server-bundle/cli.mjs', 'client-bundle/cli.mjs'].map((p) => newestMtime(join(dist, p))),
);
const compiledAt = Math.max(
  ...[join(dist, '.tsbuildinfo'), join(root, 'packages/protocol/dist/.tsbuildinfo')].map(newestMtime),
);
if (bundledAt < compiledAt) run(process.execPath, ['apps/server/scripts/bundle.mjs']);

const web = join(root, 'apps/web');
const webIndex = join(web, 'out/index.html');
const webSources = ['src', 'messages', 'public', 'next.config.ts', 'package.json'].map((p) => join(web, p));
const webBuiltAt = existsSync(webIndex) ? statSync(webIndex).mtimeMs : 0;
if (webSources.some((p) => newestMtime(p) > webBuiltAt) && existsSync(join(web, 'next.config.ts'))) {
  console.log('Building the web app (first start or sources changed)…');
  run(npm, ['run', 'build:export', '-w', '@elizabeth/web']);
}

process.argv = [process.argv[0], 'elizabeth', 'serve', ...process.argv.slice(2)];
await import(pathToFileURL(join(root, 'apps/server/dist/index.js')).href);
