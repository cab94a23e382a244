// Run every suite, print each one's result and a closing "N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';

const suites = [
  { name: 'vitest (node + jsdom, React 19)', cmd: ['npx', 'vitest', 'run'] },
];
if (existsSync('scripts/test-react18.mjs')) suites.push({ name: 'React 18', cmd: ['node', 'scripts/test-react18.mjs'] });
if (existsSync('scripts/test-browser.mjs')) suites.push({ name: 'browser (Chromium)', cmd: ['node', 'scripts/test-browser.mjs'] });

mkdirSync('artifacts', { recursive: true });
let passed = 0;
let failed = 0;
let bad = false;
/** Names of the failed tests, repeated at the very end so a log's tail says what failed. */
const failures = [];
for (const [i, s] of suites.entries()) {
  const out = `artifacts/vitest-${i}.json`;
  console.log(`\n=== ${s.name} ===`);
  const r = spawnSync(s.cmd[0], [...s.cmd.slice(1), '--reporter=default', '--reporter=json', `--outputFile=${out}`], {
    stdio: 'inherit',
    env: process.env,
  });
  if (r.status !== 0) bad = true;
  try {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    for (const file of j.testResults ?? []) {
      const bad = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
      for (const t of bad) failures.push(`${s.name}: ${file.name.replace(process.cwd() + '/', '')} > ${t.fullName}`);
      if (file.status === 'failed' && bad.length === 0) failures.push(`${s.name}: ${file.name.replace(process.cwd() + '/', '')} (${(file.message ?? 'file failed').split('\n')[0]})`);
    }
    if (j.numTotalTests === 0) bad = true;
  } catch {
    bad = true;
    console.error(`no results from ${s.name}`);
  }
}
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(bad || failed > 0 ? 1 : 0);
