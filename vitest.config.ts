import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Several suites spawn the built CLI and real children; two cores here, so keep it modest.
    maxWorkers: 2,
  },
});
