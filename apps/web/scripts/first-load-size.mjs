// Sums the gzipped size of every script an exported page loads up front (the "first-load JS").
// Usage: node scripts/first-load-size.mjs [out/index.html ...]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
const pages =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : [join(root, 'index.html'), join(root, '_.html')];

for (const page of pages) {
  const html = readFileSync(page, 'utf8');
  const sources = new Set(
    [...html.matchAll(/<script([^>]+)>/g)]
      .filter((match) => !/\bnoModule\b/i.test(match[1])) // legacy polyfills: never loaded by modern browsers
      .map((match) => /src="([^"]+)"/.exec(match[1])?.[1])
      .filter((src) => !!src),
  );
  let raw = 0;
  let gzip = 0;
  for (const src of sources) {
    const body = readFileSync(join(root, src.split('?')[0]));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
    .map((m) => m[1])
    .join('');
  const inlineGzip = gzipSync(Buffer.from(inline)).length;
  console.log(
    `${page.replace(root + '/', '')}: ${sources.size} scripts, ${(raw / 1024).toFixed(1)} KB raw, ${(gzip / 1024).toFixed(1)} KB gzipped (+ ${(inlineGzip / 1024).toFixed(1)} KB inline gzipped)`,
  );
}
