// Build dist/: ESM + declarations with tsc, then copy static assets.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const tsc = 'node_modules/typescript/bin/tsc';
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (existsSync('src/components/styles.css')) cpSync('src/components/styles.css', 'dist/components/styles.css');
