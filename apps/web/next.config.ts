import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NextConfig } from 'next';

/**
 * Build mode comes from ELIZABETH_WEB_OUTPUT:
 * - `export` (default for `npm run build`): a static site in `out/` that the API server serves.
 * - `standalone`: `.next/standalone` for `server.mjs`, which also proxies `/api/*` to the backend.
 * - unset in `next dev`: a development server that rewrites `/api/*` to ELIZABETH_BACKEND_URL.
 */
const mode = process.env.ELIZABETH_WEB_OUTPUT ?? (process.env.NODE_ENV === 'production' ? 'export' : 'dev');
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const backend = process.env.ELIZABETH_BACKEND_URL ?? 'http://127.0.0.1:4092';

/** Every `/{room}` path renders the single room template pre-rendered as `/_`. */
const roomRewrite = {
  source: '/:room((?!_next$|api$|_$)[^/]+)',
  destination: '/_',
};

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  productionBrowserSourceMaps: false,
  images: { unoptimized: true },
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  ...(mode === 'export' ? { output: 'export' as const } : {}),
  ...(mode === 'standalone' ? { output: 'standalone' as const } : {}),
  ...(mode === 'export'
    ? {}
    : {
        async rewrites() {
          return {
            beforeFiles:
              mode === 'dev' ? [{ source: '/api/:path*', destination: `${backend}/api/:path*` }] : [],
            afterFiles: [roomRewrite],
            fallback: [],
          };
        },
      }),
};

export default config;
