import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start their own databases and servers; two cores are shared between them.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
