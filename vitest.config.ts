import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Two files at a time even on a 2-core machine (the default there is one): most tests wait on timers and
    // sockets, not the CPU. The whole suite passed this way with the machine at a load average of 11.
    maxWorkers: 2,
  },
});
