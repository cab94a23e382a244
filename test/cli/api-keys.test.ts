/** `apiKeys` from the three sources (in process): a repeatable flag, a comma-separated variable, a file list. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseArgv, printable, UsageError } from '../../src/cli/config.js';

const A = 'api-key-a-0123456789';
const B = 'api-key-b-0123456789';
const load = (argv: string[], env: Record<string, string> = {}) => loadConfig(parseArgv(['serve', ...argv]), env, () => {});

describe('apiKeys', () => {
  it('--api-key repeats, --api-keys too; SIGNAL_API_KEY and SIGNAL_API_KEYS split on commas; the file takes a list', async () => {
    expect((await load(['--api-key', A, '--api-key', B])).config.apiKeys).toEqual([A, B]);
    expect((await load([`--api-keys=${A}`])).config.apiKeys).toEqual([A]);
    expect((await load([], { SIGNAL_API_KEY: ` ${A}, ${B} ,` })).config.apiKeys).toEqual([A, B]);
    expect((await load([], { SIGNAL_API_KEYS: B })).config.apiKeys).toEqual([B]);
    const dir = mkdtempSync(join(tmpdir(), 'rss-api-keys-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ apiKeys: [A] }));
      expect((await load(['--config', file])).config.apiKeys).toEqual([A]);
      // Precedence: the flag's list replaces the file's.
      expect((await load(['--config', file, '--api-key', B])).config.apiKeys).toEqual([B]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await load([])).config.apiKeys).toBeUndefined();
  });

  it('a short key is refused without showing it; --print-config redacts the keys', async () => {
    const e = await load(['--api-key', 'short']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).lines.join('\n')).toMatch(/--api-key must be keys of at least 16 characters/);
    expect((e as UsageError).lines.join('\n')).not.toContain('short');
    const { config } = await load(['--api-key', A]);
    expect(JSON.stringify(printable(config))).not.toContain(A);
    expect(printable(config).apiKeys).toBe('[redacted]');
  });
});
