/** Reconnect scheduling and policy (src/client/reconnect.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { afterClose, reconnectTimer, type CloseContext } from '../../src/client/reconnect.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('reconnectTimer', () => {
  it('false: none; a delay function is used as is; backoff settings shape the default', () => {
    expect(reconnectTimer(false, () => {})).toBeNull();
    const fn = vi.fn();
    const t = reconnectTimer((n) => 100 * (n + 1), fn)!;
    expect(t.schedule()).toBe(100);
    expect(t.schedule()).toBe(200); // scheduling again cancels the first
    vi.advanceTimersByTime(200);
    expect(fn).toHaveBeenCalledTimes(1);
    t.reset();
    expect(t.schedule()).toBe(100);
    t.cancel();
    const fixed = reconnectTimer({ initialDelay: 50, jitter: false }, () => {})!;
    expect([fixed.schedule(), fixed.schedule(), fixed.schedule()]).toEqual([50, 100, 200]);
    fixed.cancel();
    for (const option of [undefined, true]) {
      const d = reconnectTimer(option, () => {})!;
      const first = d.schedule();
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThan(1000);
      d.cancel();
    }
  });
});

describe('afterClose', () => {
  const ctx = (c: Partial<CloseContext> = {}): CloseContext => ({ tokenChanged: false, tokenExpired: false, canFetch: false, mayReconnect: true, ...c });

  it('any close but 4401: retry after the backoff, or stay closed when reconnecting is off', () => {
    for (const code of [1000, 1001, 1006, 1009, 1011, 1012, 1013, 4000, 4409, 4429, 4430]) {
      expect(afterClose(code, ctx())).toBe('retry');
      expect(afterClose(code, ctx({ mayReconnect: false }))).toBe('close');
      expect(afterClose(code, ctx({ tokenChanged: true, canFetch: true }))).toBe('retry');
    }
  });

  it('4401: redial when the token changed meanwhile; else fetch one; else unauthorized', () => {
    expect(afterClose(4401, ctx({ tokenChanged: true }))).toBe('redial');
    expect(afterClose(4401, ctx({ tokenChanged: true, mayReconnect: false }))).toBe('redial'); // the user's new token is used
    expect(afterClose(4401, ctx({ tokenChanged: true, tokenExpired: true, canFetch: true }))).toBe('fetch-token');
    expect(afterClose(4401, ctx({ canFetch: true }))).toBe('fetch-token');
    expect(afterClose(4401, ctx({ canFetch: true, mayReconnect: false }))).toBe('unauthorized');
    expect(afterClose(4401, ctx())).toBe('unauthorized');
    expect(afterClose(4401, ctx({ tokenChanged: true, tokenExpired: true }))).toBe('unauthorized');
  });
});
