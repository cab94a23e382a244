// Check the package as users install it: `npm pack` into a temporary folder, then publint (strict) and
// @arethetypeswrong/cli on that tarball. Exits non-zero when either reports a problem.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'rss-pack-'));
let failed = false;
try {
  const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--json', '--ignore-scripts'], { encoding: 'utf8' });
  const [{ filename, files }] = JSON.parse(out);
  const tarball = join(dir, filename);
  console.log(`packed ${filename}: ${files.length} files`);
  const run = (cmd, args) => {
    console.log(`\n$ ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) failed = true;
  };
  run('node_modules/.bin/publint', ['run', tarball, '--strict']);
  // ESM-only package: node10 and require() from CJS are out of scope (the esm-only profile ignores them).
  // styles.css is a plain asset export, not a module with types.
  run('node_modules/.bin/attw', [tarball, '--profile', 'esm-only', '--exclude-entrypoints', 'styles.css', '--format', 'table-flipped']);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error('\npackage check failed');
  process.exit(1);
}
console.log('\npackage check: publint and attw clean');
