/**
 * A 1012 close (the server process drains before a restart, issue 13): the client reconnects soon, at the backoff's
 * first step, even after failed attempts had grown the backoff; any other close keeps the grown backoff.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setup } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Signal after a 1012 (service restart)', () => {
  it('reconnects at the first backoff step, not the grown one', () => {
    const attempts: number[] = [];
    const { sig, fake } = setup({ reconnect: (n) => (attempts.push(n), 1000 * 2 ** n) });
    // Three failed attempts grow the backoff (a drained process refuses sockets before their first frame).
    for (let i = 0; i < 3; i++) {
      fake.last().drop();
      vi.advanceTimersByTime(1000 * 2 ** i);
    }
    expect(attempts).toEqual([0, 1, 2]);
    fake.last().drop(1012, 'service restart: reconnect');
    expect(attempts).toEqual([0, 1, 2, 0]);
    const before = fake.sockets.length;
    vi.advanceTimersByTime(1000);
    expect(fake.sockets.length).toBe(before + 1);
    // Another close code keeps growing the backoff.
    fake.last().drop(1006);
    expect(attempts).toEqual([0, 1, 2, 0, 1]);
    sig.close();
  });
});
