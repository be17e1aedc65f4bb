import { defineConfig } from 'vitest/config';

/** The opt-in suite against a real kind cluster (`npm run test:kind`). */
export default defineConfig({
  test: {
    include: ['test/kind/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
