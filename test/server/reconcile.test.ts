/**
 * The pure roster reconciliation (src/server/reconcile.ts): what a node announces after reading a channel's roster
 * from the broker, given what it held and what happened while the read was in flight. No sockets, no broker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconcile, type Meanwhile, type RosterDiff } from '../../src/server/reconcile.js';

/** `local` with `diff` applied, as roster sync applies it. */
function applyDiff(local: ReadonlyMap<string, unknown>, diff: RosterDiff): Map<string, unknown> {
  const out = new Map(local);
  for (const addr of diff.leaves) out.delete(addr);
  for (const [addr, state] of diff.changes) out.set(addr, state);
  return out;
}

const none = (): Meanwhile => ({ touched: new Set(), unsure: new Set(), local: new Set() });
const json = (v: unknown): string | undefined => JSON.stringify(v);

describe('reconcile: examples', () => {
  it('nothing held, nothing read: nothing to do', () => {
    expect(reconcile(new Map(), new Map(), none())).toEqual({ leaves: [], changes: new Map(), joins: new Set() });
  });

  it('a held member missing from the read leaves; a member read but not held joins, with its state', () => {
    const diff = reconcile(new Map([['a/d/1', undefined]]), new Map([['b/d/2', { s: 1 }]]), none());
    expect(diff.leaves).toEqual(['a/d/1']);
    expect([...diff.changes]).toEqual([['b/d/2', { s: 1 }]]);
    expect([...diff.joins]).toEqual(['b/d/2']);
  });

  it('a held member whose state differs takes the read state (no join); an equal state (as JSON) is no change', () => {
    const local = new Map<string, unknown>([
      ['a/d/1', { s: 1 }],
      ['b/d/2', { s: 2, t: [1] }],
      ['c/d/3', { s: 3 }],
    ]);
    const fresh = new Map<string, unknown>([
      ['a/d/1', { s: 9 }],
      ['b/d/2', { s: 2, t: [1] }], // another object, same JSON
      ['c/d/3', undefined], // state gone: set to none, nothing to announce but the change
    ]);
    const diff = reconcile(local, fresh, none());
    expect(diff.leaves).toEqual([]);
    expect([...diff.changes]).toEqual([
      ['a/d/1', { s: 9 }],
      ['c/d/3', undefined],
    ]);
    expect(diff.joins.size).toBe(0);
  });

  it('touched meanwhile: newer than the read, left as held (kept when missing, not added when read)', () => {
    const m = { ...none(), touched: new Set(['a/d/1', 'b/d/2', 'c/d/3']) };
    const diff = reconcile(new Map<string, unknown>([['a/d/1', undefined], ['c/d/3', 1]]), new Map<string, unknown>([['b/d/2', 5], ['c/d/3', 2]]), m);
    expect(diff).toEqual({ leaves: [], changes: new Map(), joins: new Set() });
  });

  it('unsure: kept when held (no leave), not added otherwise (no join)', () => {
    const m = { ...none(), unsure: new Set(['a/d/1', 'b/d/2']) };
    const diff = reconcile(new Map([['a/d/1', { s: 1 }]]), new Map(), m);
    expect(diff).toEqual({ leaves: [], changes: new Map(), joins: new Set() });
  });

  it("this node's own members are never announced from a read: no leave when missing, no join when read", () => {
    const m = { ...none(), local: new Map([['me/d/1', {}], ['me/d/2', {}]]) };
    const diff = reconcile(new Map([['me/d/1', undefined]]), new Map([['me/d/2', { s: 1 }]]), m);
    expect(diff).toEqual({ leaves: [], changes: new Map(), joins: new Set() });
  });

  it('a late state (published meanwhile by a member not held) wins over the read; ignored for a member not read', () => {
    const m = { ...none(), late: new Map<string, unknown>([['a/d/1', { s: 'late' }], ['z/d/9', { s: 'gone' }]]) };
    const diff = reconcile(new Map(), new Map<string, unknown>([['a/d/1', { s: 'read' }]]), m);
    expect([...diff.changes]).toEqual([['a/d/1', { s: 'late' }]]);
    expect([...diff.joins]).toEqual(['a/d/1']);
  });

  it('leaves come in the held order, changes in the read order', () => {
    const local = new Map<string, unknown>([['c/d/3', 0], ['x/d/1', 0], ['a/d/1', 0], ['y/d/2', 0]]);
    const fresh = new Map<string, unknown>([['z/d/1', 1], ['a/d/1', 1], ['b/d/1', undefined], ['c/d/3', 0]]);
    const diff = reconcile(local, fresh, none());
    expect(diff.leaves).toEqual(['x/d/1', 'y/d/2']);
    expect([...diff.changes.keys()]).toEqual(['z/d/1', 'a/d/1', 'b/d/1']);
    expect([...diff.joins]).toEqual(['z/d/1', 'b/d/1']);
  });
});

const POOL = ['a/d/1', 'a/d/2', 'b/d/1', 'b/e/1', 'c/d/1', 'c/d/2', 'd/d/1', 'e/d/1'];
const addr = fc.constantFrom(...POOL);
const state = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 0, max: 2 }),
  fc.record({ v: fc.integer({ min: 0, max: 2 }) }),
  fc.constant(null),
  fc.constant('x'),
);
const roster = fc.array(fc.tuple(addr, state), { maxLength: POOL.length }).map((e) => new Map<string, unknown>(e));
const set = fc.uniqueArray(addr, { maxLength: 4 }).map((a) => new Set(a));
/** A case as the broker gives it: `unsure` members are never in the read (`overlap` lets them be, for robustness). */
const input = (overlap: boolean) =>
  fc.record({ local: roster, read: roster, touched: set, unsure: set, held: set, late: roster }).map(({ local, read, touched, unsure, held, late }) => {
    const fresh = overlap ? read : new Map([...read].filter(([a]) => !unsure.has(a)));
    return { local, fresh, m: { touched, unsure, local: held, late } as Meanwhile & { late: Map<string, unknown>; local: Set<string> } };
  });
/** The read with the late states applied: what the broker's roster is, as far as this node knows. */
const effective = (fresh: Map<string, unknown>, late: Map<string, unknown>): Map<string, unknown> =>
  new Map([...fresh].map(([a, s]) => [a, late.has(a) ? late.get(a) : s]));
const excluded = (m: Meanwhile, a: string): boolean => m.touched.has(a) || m.unsure.has(a) || m.local.has(a);

describe('reconcile: properties', () => {
  it('applying the diff to the held roster yields the read (late states applied), except for touched, unsure and local members', () => {
    fc.assert(
      fc.property(input(false), ({ local, fresh, m }) => {
        const after = applyDiff(local, reconcile(local, fresh, m));
        const want = effective(fresh, m.late);
        for (const a of POOL) {
          if (excluded(m, a)) continue;
          expect(after.has(a)).toBe(want.has(a));
          if (want.has(a)) expect(json(after.get(a))).toBe(json(want.get(a)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('touched, unsure and local members are left exactly as held', () => {
    fc.assert(
      fc.property(input(true), ({ local, fresh, m }) => {
        const after = applyDiff(local, reconcile(local, fresh, m));
        for (const a of POOL) {
          if (!excluded(m, a)) continue;
          expect(after.has(a)).toBe(local.has(a));
          expect(after.get(a)).toBe(local.get(a));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('unsure addresses are never in leaves or joins (nor changed), even if a read also lists them', () => {
    fc.assert(
      fc.property(input(true), ({ local, fresh, m }) => {
        const diff = reconcile(local, fresh, m);
        for (const a of m.unsure) {
          expect(diff.leaves).not.toContain(a);
          expect(diff.joins.has(a)).toBe(false);
          expect(diff.changes.has(a)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('minimal and well-formed: leaves were held and not read; joins are exactly the changes not held; a changed held state differs', () => {
    fc.assert(
      fc.property(input(false), ({ local, fresh, m }) => {
        const diff = reconcile(local, fresh, m);
        expect(new Set(diff.leaves).size).toBe(diff.leaves.length);
        for (const a of diff.leaves) {
          expect(local.has(a)).toBe(true);
          expect(fresh.has(a)).toBe(false);
        }
        for (const [a, s] of diff.changes) {
          expect(fresh.has(a)).toBe(true);
          expect(diff.joins.has(a)).toBe(!local.has(a));
          if (local.has(a)) expect(json(s)).not.toBe(json(local.get(a)));
        }
        for (const a of diff.joins) expect(diff.changes.has(a)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('in order: leaves in the held order, changes in the read order', () => {
    fc.assert(
      fc.property(input(false), ({ local, fresh, m }) => {
        const diff = reconcile(local, fresh, m);
        expect(diff.leaves).toEqual([...local.keys()].filter((a) => diff.leaves.includes(a)));
        expect([...diff.changes.keys()]).toEqual([...fresh.keys()].filter((a) => diff.changes.has(a)));
      }),
      { numRuns: 300 },
    );
  });

  it('idempotent: reconciling the result with the same read finds nothing more to do', () => {
    fc.assert(
      fc.property(input(false), ({ local, fresh, m }) => {
        const after = applyDiff(local, reconcile(local, fresh, m));
        const again = reconcile(after, fresh, m);
        expect(again.leaves).toEqual([]);
        expect(again.changes.size).toBe(0);
        expect(again.joins.size).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('pure: its arguments are not changed', () => {
    fc.assert(
      fc.property(input(true), ({ local, fresh, m }) => {
        const snap = (x: Map<string, unknown> | Set<string>): string => JSON.stringify([...x]);
        const before = [local, fresh, m.touched as Set<string>, m.unsure as Set<string>, m.local, m.late].map(snap);
        reconcile(local, fresh, m);
        expect([local, fresh, m.touched as Set<string>, m.unsure as Set<string>, m.local, m.late].map(snap)).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});
