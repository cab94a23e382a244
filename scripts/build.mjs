// Build dist/: ESM + declarations with tsc, then copy static assets.
// Builds into a fresh folder and swaps it in, so processes running from dist/ never see it half-built.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync } from 'node:fs';

const tmp = `dist.tmp-${process.pid}`;
const old = `dist.old-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', tmp], {
    stdio: 'inherit',
  });
  if (existsSync('src/components/styles.css')) cpSync('src/components/styles.css', `${tmp}/components/styles.css`);
  if (existsSync('dist')) renameSync('dist', old);
  renameSync(tmp, 'dist');
} finally {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}
