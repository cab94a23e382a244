/** Compile test/unit/types/*.ts with tsc: the client's generic payload types hold (and refuse what they should). */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('client types', () => {
  it('generic payload, state and event types compile as intended', { timeout: 60_000 }, async () => {
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/unit/types/tsconfig.json'], (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      });
    });
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
