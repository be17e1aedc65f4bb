import { defineConfig } from 'vitest/config';
import { kindToolEnv } from './scripts/kind/env.mjs';

/**
 * The opt-in suite against a real kind cluster (`npm run test:kind`). Where
 * `npm run cluster:kind` built the cluster, its kind and its kubectl (the cluster's own minor
 * version) come first on PATH, and its Node.js base image is the server image's base.
 */
export default defineConfig({
  test: {
    include: ['test/kind/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Builds dist/ when any source is newer: tests run the CLI and the embedded cluster from it.
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    env: kindToolEnv(),
  },
});
