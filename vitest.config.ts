import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const protocolSource = fileURLToPath(new URL('./packages/protocol/src/', import.meta.url));
const webSource = fileURLToPath(new URL('./apps/web/src/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@elizabeth\/protocol$/, replacement: `${protocolSource}index.ts` },
      { find: /^@elizabeth\/protocol\/constants$/, replacement: `${protocolSource}constants.ts` },
      // the web app's own `@/…` import alias, for its unit tests
      { find: /^@\//, replacement: webSource },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/server/src/**/*.test.ts',
      'apps/server/test/**/*.test.ts',
      'apps/web/src/**/*.test.ts',
      'e2e/**/*.e2e.test.ts',
    ],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails the run when a process a test started outlives it (issue 16 item 16).
    globalSetup: ['apps/server/test/support/global-setup.ts'],
    reporters: ['default'],
  },
});
