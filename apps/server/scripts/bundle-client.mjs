// Bundles the terminal client (dist/client/cli.js, built by tsc) with its dependencies into
// dist/client-bundle/: cli.mjs plus a chunk per command-specific import (tus-js-client for push,
// ws and qrcode for tail/open…), so each command parses only what it runs. src/index.ts loads
// it when it exists. Run by `npm run build` after tsc.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outdir = `${dist}client-bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { cli: `${dist}client/cli.js` },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (commander, tus-js-client…) call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
