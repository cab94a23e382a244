/** The client entry bundles for the browser with no Node import (no ws, no node:*, no jose). */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('client bundle', () => {
  it('bundles for the browser platform without ws, node: builtins or jose', async () => {
    const res = await build({
      entryPoints: ['src/client/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      minify: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(res.metafile.inputs);
    expect(inputs.every((f) => f.startsWith('src/client/') || f.startsWith('src/protocol/'))).toBe(true);
    const code = res.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["'](ws|node:|jose)/);
    expect(code.length).toBeLessThan(40_000);
  });
});
