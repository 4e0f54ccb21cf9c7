import { defineConfig } from 'vitest/config';

/** Runs test/replay/capture.test.ts alone, on the same test stack as the integration tests. */
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/replay/capture.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/integration/setup-quiet-sdk.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
