import { execFileSync } from 'node:child_process';

/** Build dist/ once so CLI tests run the real bin. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
