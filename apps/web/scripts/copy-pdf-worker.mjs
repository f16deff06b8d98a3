// Copies the pdf.js worker next to the app's static files so the PDF viewer never needs a CDN
// (the server's CSP only allows same-origin scripts and workers).
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const source = join(dirname(require.resolve('pdfjs-dist/package.json')), 'build', 'pdf.worker.min.mjs');
const target = join(here, '..', 'public', 'dist', 'pdf.worker.min.mjs');

mkdirSync(dirname(target), { recursive: true });
let upToDate = false;
try {
  upToDate =
    statSync(target).size === statSync(source).size && statSync(target).mtimeMs >= statSync(source).mtimeMs;
} catch {
  upToDate = false;
}
if (!upToDate) copyFileSync(source, target);
