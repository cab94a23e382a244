import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('types', () => {
  it('the React layer, its tests and the generic checks in types.test-d.tsx compile (strict)', () => {
    const root = resolve(__dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'rss-types-'));
    try {
      const config = {
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { noEmit: true, rootDir: root, typeRoots: [join(root, 'node_modules/@types')], types: ['node'] },
        include: [join(root, 'src'), join(root, 'test/react'), join(root, 'test/components'), join(root, 'test/helpers')],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
      let out = '';
      try {
        execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], {
          encoding: 'utf8',
          timeout: 120_000,
        });
      } catch (e) {
        out = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
