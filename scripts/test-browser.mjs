// Browser tests: build Storybook static, then run test/browser/*.browser.ts in real Chromium (playwright-core).
// Extra argv (e.g. --reporter=json --outputFile=...) goes to vitest; exits with vitest's exit code.
// SKIP_STORYBOOK_BUILD=1 reuses an existing storybook-static/ (for quick iterations).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args, env = process.env) => spawnSync(cmd, args, { stdio: 'inherit', env });

if (!existsSync('/usr/bin/chromium') && !process.env.CHROMIUM_PATH) {
  console.error('test:browser needs Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
  process.exit(1);
}
// The real-server test runs the CLI from dist/.
if (!existsSync('dist/cli/main.js')) {
  const b = run(process.execPath, ['scripts/build.mjs']);
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// Stories, Storybook config and browser tests are type-checked here (the package's typecheck covers src/).
const tc = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'stories/tsconfig.json']);
if (tc.status !== 0) {
  console.error('stories/tsconfig.json: type errors');
  process.exit(tc.status ?? 1);
}
if (process.env.SKIP_STORYBOOK_BUILD !== '1' || !existsSync('storybook-static/iframe.html')) {
  const sb = run(process.execPath, ['node_modules/storybook/dist/bin/dispatcher.js', 'build', '-o', 'storybook-static', '--quiet'], {
    ...process.env,
    STORYBOOK_DISABLE_TELEMETRY: '1',
    STORYBOOK_SIGNAL_SERVER: 'in-page',
  });
  if (sb.status !== 0) {
    console.error('storybook build failed');
    process.exit(sb.status ?? 1);
  }
}
const r = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/browser/vitest.config.ts', ...process.argv.slice(2)]);
process.exit(r.status ?? 1);
