import { defineConfig } from 'vitest/config';

// Browser tests (real Chromium over playwright-core) against the static Storybook build.
// Run by `npm run test:browser` (scripts/test-browser.mjs), which builds Storybook first.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/browser/**/*.browser.ts'],
    globalSetup: ['test/browser/global-setup.ts'],
    // Tests set their own limits, each several times their duration measured on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // describe.concurrent (the axe test of each story): two stories at a time, each in its own page.
    maxConcurrency: 2,
  },
});
