import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { serveStatic } from './static-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    storybookUrl: string;
  }
}

/** Serve storybook-static (built by scripts/test-browser.mjs) for every browser test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync('storybook-static/iframe.html')) {
    throw new Error('storybook-static/ is missing: run `npm run test:browser` (it builds Storybook first)');
  }
  const srv = await serveStatic('storybook-static');
  project.provide('storybookUrl', srv.url);
  return () => srv.close();
}
