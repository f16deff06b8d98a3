#!/usr/bin/env -S node --max-semi-space-size=1
// The shebang gives V8 a 1 MiB young generation (--max-semi-space-size=1): ~25 MB less RSS for
// a server that mostly streams; the Docker image starts node with the same flag.
// Runs the built CLI. In a source checkout that was never built it runs the TypeScript sources
// through tsx (a dev dependency), resolving workspace packages to their sources, so that
// `npx elizabeth` works straight after `npm ci`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const protocolBuilt = fileURLToPath(new URL('../../../packages/protocol/dist/index.js', import.meta.url));

if (existsSync(built) && existsSync(protocolBuilt)) {
  await import(built);
} else {
  const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', import.meta.resolve('tsx'), source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
