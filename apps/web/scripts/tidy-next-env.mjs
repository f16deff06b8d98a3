// `next build` regenerates next-env.d.ts with double quotes; rewrite it in the repository's Prettier
// style (single quotes) so `prettier --check .` stays green after a build.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'next-env.d.ts');
if (existsSync(file)) {
  const text = readFileSync(file, 'utf8');
  const tidy = text.replace(/^import "([^"]+)";$/gm, "import '$1';");
  if (tidy !== text) writeFileSync(file, tidy);
}
