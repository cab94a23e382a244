/** The one-item-or-set helper (src/server/one-or-set.ts), checked against a plain Map of Sets. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addItem, itemCount, removeItem, type OneOrSet } from '../../src/server/one-or-set.js';

describe('one-or-set', () => {
  it('one item alone, a Set from the second on, the item alone again when one is left', () => {
    const m = new Map<string, OneOrSet<object>>();
    const a = {};
    const b = {};
    expect(addItem(m, 'k', a)).toBe(true);
    expect(m.get('k')).toBe(a);
    expect(addItem(m, 'k', a)).toBe(false); // already there: no Set
    expect(m.get('k')).toBe(a);
    expect(addItem(m, 'k', b)).toBe(false);
    expect(m.get('k')).toEqual(new Set([a, b]));
    expect(itemCount(m, 'k')).toBe(2);
    expect(removeItem(m, 'k', a)).toBe(false);
    expect(m.get('k')).toBe(b);
    expect(removeItem(m, 'k', a)).toBe(false); // not there
    expect(removeItem(m, 'k', b)).toBe(true);
    expect(m.has('k')).toBe(false);
    expect(itemCount(m, 'k')).toBe(0);
  });

  it('behaves as a Map of Sets (and never holds a Set of fewer than two)', () => {
    const items = Array.from({ length: 4 }, (_, i) => ({ i }));
    const op = fc.record({ add: fc.boolean(), key: fc.constantFrom('x', 'y'), item: fc.nat({ max: 3 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const m = new Map<string, OneOrSet<{ i: number }>>();
        const model = new Map<string, Set<{ i: number }>>();
        for (const { add, key, item } of ops) {
          const it = items[item]!;
          const had = model.get(key) ?? new Set();
          if (add) {
            expect(addItem(m, key, it)).toBe(had.size === 0);
            model.set(key, new Set([...had, it]));
          } else {
            had.delete(it);
            const gone = had.size === 0 && model.has(key);
            if (had.size === 0) model.delete(key);
            expect(removeItem(m, key, it)).toBe(gone);
          }
          for (const k of ['x', 'y']) {
            const cur = m.get(k);
            const want = model.get(k);
            expect(itemCount(m, k)).toBe(want?.size ?? 0);
            if (cur instanceof Set) {
              expect(cur.size).toBeGreaterThan(1);
              expect(cur).toEqual(want);
            } else expect(cur === undefined ? undefined : new Set([cur])).toEqual(want);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
