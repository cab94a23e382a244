/** Token expiries (src/server/expiries.ts) on a fake clock: per-second buckets, one timer that runs only while needed. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Expiries } from '../../src/server/expiries.js';

interface Item {
  name: string;
  exp: number;
}

const T0 = 1_700_000_000_000; // a whole second

function setup() {
  const expired: string[] = [];
  const ex = new Expiries<Item>(() => Date.now(), (it) => void expired.push(`${it.name}@${Date.now() - T0}`));
  const item = (name: string): Item => ({ name, exp: 0 });
  return { ex, expired, item };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('Expiries', () => {
  it('an item expires on the first tick at or past its exp (to the second), once; its exp is 0 then', () => {
    const { ex, expired, item } = setup();
    const a = item('a');
    const b = item('b');
    ex.set(a, T0 / 1000 + 3);
    ex.set(b, T0 / 1000 + 2.5); // a fraction of a second: not at the tick of second 2, at that of second 3
    expect(a.exp).toBe(T0 + 3000);
    expect(ex.size).toBe(2);
    vi.advanceTimersByTime(2999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a@3000', 'b@3000']); // same second: filing order
    expect([a.exp, b.exp]).toEqual([0, 0]);
    vi.advanceTimersByTime(5000);
    expect(expired).toHaveLength(2);
  });

  it('setting again replaces the earlier expiry; no exp (or not a finite number) takes it off', () => {
    const { ex, expired, item } = setup();
    const a = item('a');
    const b = item('b');
    const c = item('c');
    ex.set(a, T0 / 1000 + 1);
    ex.set(a, T0 / 1000 + 4);
    ex.set(b, T0 / 1000 + 1);
    ex.set(b, undefined);
    ex.set(c, T0 / 1000 + 1);
    ex.set(c, Number.NaN);
    expect([b.exp, c.exp, ex.size]).toEqual([0, 0, 1]);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['a@4000']);
  });

  it('one timer, only while something is filed: it stops when the last item goes and starts again with a new one', () => {
    const { ex, expired, item } = setup();
    expect(ex.running).toBe(false);
    const items = Array.from({ length: 50 }, (_, i) => item(`i${i}`));
    items.forEach((it, i) => ex.set(it, T0 / 1000 + 1 + (i % 3)));
    expect(ex.running).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3000);
    expect(expired).toHaveLength(50);
    expect(ex.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    const a = item('a');
    ex.set(a, T0 / 1000 + 5);
    expect(vi.getTimerCount()).toBe(1);
    ex.set(a, undefined); // taken off: the timer stops at its next tick
    vi.advanceTimersByTime(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an exp already past expires at the next tick', () => {
    const { ex, expired, item } = setup();
    ex.set(item('old'), T0 / 1000 - 60);
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual(['old@1000']);
  });

  it('stop(): no tick any more, and setting an expiry starts none', () => {
    const { ex, expired, item } = setup();
    ex.set(item('a'), T0 / 1000 + 1);
    ex.stop();
    ex.set(item('b'), T0 / 1000 + 1);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
  });

  it('an item may be set again from inside onExpire (a session filed anew)', () => {
    const expired: string[] = [];
    const ex: Expiries<Item> = new Expiries<Item>(() => Date.now(), (it) => {
      expired.push(it.name);
      if (expired.length === 1) ex.set(it, Date.now() / 1000 + 2);
    });
    ex.set({ name: 'a', exp: 0 }, T0 / 1000 + 1);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['a', 'a']);
  });
});
