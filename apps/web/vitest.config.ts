import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

// Run from the repository root: `npx vitest run --config apps/web/vitest.config.ts`.
export default defineConfig({
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  test: {
    include: ['apps/web/src/**/*.test.ts'],
    environment: 'node',
  },
});
