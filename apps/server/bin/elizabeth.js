#!/usr/bin/env -S node --max-semi-space-size=4 --initial-old-space-size=64 --expose-gc
// The shebang caps V8's young generation at 4 MiB semi-spaces (--max-semi-space-size=4, V8's
// default is 16): ~20 MB less RSS for a server that mostly streams, without the CPU cost of the
// 1 MiB cap used before. --initial-old-space-size=64: once an idle spell's GCs have set the old
// generation's limit just above its live size (≈ 21 MB), an upload runs one full GC after
// another (77 during 1 GiB of tus: 8.7 s of server CPU against 2.9 s with the flag; idle RSS
// unchanged, peak +4 MB). --expose-gc: while files move, the server collects dead chunk buffers
// every 8 MiB instead of every 32 MiB (lib/heap-trim.ts; peak RSS −20 MB). docs/BENCHMARKS.md,
// issue 15; the image and `npm start` use the same flags.
// Runs the built CLI. In a source checkout that was never built (or with
// ELIZABETH_RUN_SOURCE=1) it runs the TypeScript sources through tsx (a dev dependency), in
// this same process, resolving workspace packages to their sources (the `source` export
// condition), so that `npx elizabeth` works straight after `npm ci`. One process: a signal
// meant for the server (SIGKILL included) reaches the server; no child can be orphaned.
import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const protocolBuilt = fileURLToPath(new URL('../../../packages/protocol/dist/index.js', import.meta.url));

if (process.env.ELIZABETH_RUN_SOURCE !== '1' && existsSync(built) && existsSync(protocolBuilt)) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // Registered after tsx, so it runs first: every resolution also matches `source` exports.
  registerHooks(
    'data:text/javascript,' +
      encodeURIComponent(
        "export function resolve(s, c, next) { return next(s, c.conditions.includes('source') ? c : { ...c, conditions: [...c.conditions, 'source'] }); }",
      ),
  );
  await import(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
}
