// After `next build` with output "standalone": copy the static assets next to the standalone server
// (Next leaves that to the deployer) so `node server.mjs` can serve everything.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const standaloneApp = join(app, '.next', 'standalone', 'apps', 'web');
if (!existsSync(join(standaloneApp, 'server.js'))) {
  console.error(
    `No standalone server at ${standaloneApp}/server.js — run with ELIZABETH_WEB_OUTPUT=standalone first.`,
  );
  process.exit(1);
}
for (const [from, to] of [
  [join(app, '.next', 'static'), join(standaloneApp, '.next', 'static')],
  [join(app, 'public'), join(standaloneApp, 'public')],
]) {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
}
console.log(`Standalone app assembled in ${standaloneApp}. Start it with: node apps/web/server.mjs`);
