/** The naming rule of `serve`'s options, checked over the whole schema (in process: no bin needed). */
import { describe, expect, it } from 'vitest';
import { leaves } from '../../src/cli/config.js';
import { DEFAULT_LIMITS } from '../../src/protocol/constants.js';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('option names', () => {
  it('file key = the schema path; flag = its kebab-case and variable SIGNAL_ + SCREAMING_SNAKE, limits. left out, redis. kept', () => {
    for (const leaf of leaves) {
      if (leaf.meta.inverted) continue; // requireExp: --allow-no-exp / SIGNAL_ALLOW_NO_EXP, as before
      const words = leaf.path[0] === 'limits' ? leaf.path.slice(1) : leaf.path;
      const flag = words.map(kebab).join('-');
      expect(leaf.flag, leaf.key).toBe(flag);
      expect(leaf.env, leaf.key).toBe(`SIGNAL_${flag.replace(/-/g, '_').toUpperCase()}`);
    }
    const names = leaves.flatMap((l) => l.flags);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(leaves.map((l) => l.env)).size).toBe(leaves.length);
  });

  it('every limit of DEFAULT_LIMITS is an option, and nothing else is under limits', () => {
    const limits = leaves.filter((l) => l.path[0] === 'limits').map((l) => l.path[1]);
    expect(limits.sort()).toEqual(Object.keys(DEFAULT_LIMITS).sort());
  });

  it('the names kept from before still work', () => {
    const by = (flag: string) => leaves.find((l) => l.flags.includes(flag))?.key;
    expect(by('redis')).toBe('redis.url');
    expect(by('redis-ttl')).toBe('redis.ttlMs');
    expect(by('allow-no-exp')).toBe('requireExp');
    const env = (name: string) => leaves.find((l) => l.env === name)?.key;
    expect(env('SIGNAL_REDIS_URL')).toBe('redis.url');
    expect(env('SIGNAL_REDIS_TTL_MS')).toBe('redis.ttlMs');
    expect(env('SIGNAL_ALLOW_NO_EXP')).toBe('requireExp');
  });
});
