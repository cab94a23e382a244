/**
 * Reconnect backoff (src/client/backoff.ts): the delays and the restartable Timer.
 * Fake timers and the scripted FakeWebSocket (moved from test/unit/client-timing.test.ts, assertions unchanged).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exponentialBackoff, Timer } from '../../src/client/index.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('exponentialBackoff', () => {
  it('full jitter stays within [0, cap); caps double from 1 s to 30 s', () => {
    const hi = exponentialBackoff({}, () => 0.999999);
    const caps = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    caps.forEach((cap, attempt) => {
      const d = hi(attempt);
      expect(d).toBeLessThan(cap);
      expect(d).toBeGreaterThanOrEqual(cap - 1);
    });
    expect(exponentialBackoff({}, () => 0)(7)).toBe(0);
    expect(exponentialBackoff({ jitter: false })(0)).toBe(1000);
    expect(exponentialBackoff({ jitter: false })(3)).toBe(8000);
    expect(exponentialBackoff({ jitter: false })(1000)).toBe(30000);
    const d = exponentialBackoff();
    for (let attempt = 0; attempt < 200; attempt++) {
      const v = d(attempt % 12);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(Math.min(30000, 1000 * 2 ** (attempt % 12)));
      expect(Number.isInteger(v)).toBe(true);
    }
  });

  it('options: initial delay, factor, cap', () => {
    const d = exponentialBackoff({ initialDelay: 100, factor: 3, maxDelay: 1000, jitter: false });
    expect([0, 1, 2, 3, 4].map(d)).toEqual([100, 300, 900, 1000, 1000]);
  });
});

describe('Timer', () => {
  it('schedules with the attempt count, cancel and reset start over', () => {
    const fn = vi.fn();
    const delays: number[] = [];
    const t = new Timer(fn, (n) => (delays.push(n), 100 * (n + 1)));
    t.schedule();
    expect(t.pending).toBe(true);
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.pending).toBe(false);
    t.schedule();
    t.cancel();
    vi.advanceTimersByTime(10_000);
    expect(fn).toHaveBeenCalledTimes(1);
    t.reset();
    t.schedule();
    expect(delays).toEqual([0, 1, 0]);
    t.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });
});
