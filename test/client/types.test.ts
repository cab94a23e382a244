/** Compile the client's type tests (test/client/types/*.test-d.ts, vitest's expectTypeOf) with tsc: they hold. */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('client type tests', () => {
  it("ws's WebSocket class fits options.WebSocket; what does not fit is refused; the typing event's types", { timeout: 60_000 }, async () => {
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/client/types/tsconfig.json'], (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      });
    });
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
