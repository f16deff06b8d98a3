import { existsSync } from 'node:fs';

import type { runClientCli as RunClientCli } from './client/cli.js';
import { CLIENT_COMMANDS } from './client/command-names.js';

// Client commands (push, pull, ls, …) start without loading the server's modules. The build
// also bundles the client into one module graph with its dependencies
// (scripts/bundle-client.mjs): parsed at once it starts with ~30 % less CPU than ~60 separate
// modules (docs/BENCHMARKS.md, terminal client). A source checkout or a build without it runs
// the modules.
if (CLIENT_COMMANDS.includes(process.argv[2] ?? '')) {
  const bundle = new URL('./client-bundle/cli.mjs', import.meta.url);
  const { runClientCli } = (
    existsSync(bundle) ? await import(bundle.href) : await import('./client/cli.js')
  ) as { runClientCli: typeof RunClientCli };
  await runClientCli();
} else {
  const { runCli } = await import('./cli.js');
  await runCli();
}
