import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/kind/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Builds dist/ when any source is newer: tests run the CLI and the embedded cluster from it.
    globalSetup: ['test/global-setup.ts'],
  },
});
