/**
 * `ioredis` is an optional peer dependency: an install without it (a React-only app, or a server that never scales
 * out) loads the server entry fine, and `--redis` / `RedisBroker` say which package to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir = '';
beforeAll(() => {
  // A copy of the built package next to a node_modules holding its required dependencies only (copied, not
  // symlinked into this repository, whose node_modules has ioredis).
  dir = mkdtempSync(join(tmpdir(), 'rss-no-redis-'));
  const pkg = join(dir, 'node_modules', 'react-signal-service');
  mkdirSync(pkg, { recursive: true });
  for (const f of ['package.json', 'dist', 'bin']) cpSync(resolve(f), join(pkg, f), { recursive: true });
  const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  expect(Object.keys(dependencies)).not.toContain('ioredis');
  for (const dep of Object.keys(dependencies)) symlinkSync(resolve('node_modules', dep), join(dir, 'node_modules', dep), 'dir');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('without ioredis installed', () => {
  it('the server entry loads and serves; RedisBroker names the package to install', () => {
    const code = `
      import { createSignalServer, RedisBroker } from 'react-signal-service/server';
      const s = createSignalServer({ secret: 'x'.repeat(32) });
      const { port } = await s.listen(0, '127.0.0.1');
      const ok = (await fetch('http://127.0.0.1:' + port + '/healthz')).status;
      await s.close();
      const err = await new RedisBroker({ url: 'redis://127.0.0.1:1' }).attach('n', { message() {}, membersLost() {}, resync() {} }).then(() => 'attached', (e) => e.message);
      console.log(JSON.stringify({ ok, err }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out.trim())).toEqual({ ok: 200, err: 'RedisBroker needs the ioredis package: npm install ioredis' });
  });

  it('serve --redis exits 2 with the install command', () => {
    const bin = join(dir, 'node_modules', 'react-signal-service', 'bin', 'react-signal-service.js');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIGNAL_')));
    const r = spawnSync(process.execPath, [bin, 'serve', '--port', '0', '--redis', 'redis://127.0.0.1:1'], { cwd: dir, encoding: 'utf8', timeout: 30_000, env });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--redis needs the ioredis package: npm install ioredis');
  });
});
