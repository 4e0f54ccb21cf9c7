import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure code, no servers) and `integration` (a real Temporal dev server,
 * started once per run by globalSetup, and a real PostgreSQL). Forks, so a test can kill a worker
 * process without taking the runner with it.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // vitest's summary, then one plain "N passed, N failed" line that closes the log (CI reads it).
    reporters: ['default', './test/reporters/closing-line.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/integration/setup-quiet-sdk.ts', 'test/integration/setup-openapi-check.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
