import { existsSync, statSync } from 'node:fs';

import type { runCli as RunCli } from './cli.js';
import type { runClientCli as RunClientCli } from './client/cli.js';
import { CLIENT_COMMANDS } from './client/command-names.js';

// Client commands (push, pull, ls, …) start without loading the server's modules. The build
// also bundles the client and the server, each into one module graph with its dependencies
// (scripts/bundle.mjs): parsed at once, the client starts with ~30 % less CPU than ~60 separate
// modules and the server with about half the CPU of ~1 100 (docs/BENCHMARKS.md). A source
// checkout, a build without them or a later `tsc -b` (whose output the bundles do not have yet)
// runs the modules.

/** tsc's record of its last build (server, protocol): a bundle older than it is stale. */
const TSC_BUILDS = ['./.tsbuildinfo', '../../../packages/protocol/dist/.tsbuildinfo'].map(
  (path) => new URL(path, import.meta.url),
);

/** Whether the bundle exists and was made from the current tsc build (not before a later one). */
function usable(bundle: URL): boolean {
  if (!existsSync(bundle)) return false;
  const made = statSync(bundle).mtimeMs;
  return TSC_BUILDS.every((build) => !existsSync(build) || statSync(build).mtimeMs <= made);
}

if (CLIENT_COMMANDS.includes(process.argv[2] ?? '')) {
  const bundle = new URL('./client-bundle/cli.mjs', import.meta.url);
  const { runClientCli } = (usable(bundle) ? await import(bundle.href) : await import('./client/cli.js')) as {
    runClientCli: typeof RunClientCli;
  };
  await runClientCli();
} else {
  const bundle = new URL('./server-bundle/cli.mjs', import.meta.url);
  const { runCli } = (usable(bundle) ? await import(bundle.href) : await import('./cli.js')) as {
    runCli: typeof RunCli;
  };
  await runCli();
}
