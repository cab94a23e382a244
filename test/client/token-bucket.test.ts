/** The token bucket (src/protocol/token-bucket.ts), on an injected clock: no timers, no Date. */
import { describe, expect, it } from 'vitest';
import { refill, TokenBucket } from '../../src/protocol/token-bucket.js';

function clock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('refill', () => {
  it('adds perSecond per 1000 ms, never above burst; no time (or time going back) adds nothing', () => {
    expect(refill(0, 1000, 45, 180)).toBe(45);
    expect(refill(10, 500, 10, 100)).toBe(15);
    expect(refill(170, 1000, 45, 180)).toBe(180);
    expect(refill(5, 0, 45, 180)).toBe(5);
    expect(refill(5, -300, 45, 180)).toBe(5);
    expect(refill(-20, 1000, 10, 100)).toBe(-10); // a deficit is paid back over time
  });
});

describe('TokenBucket', () => {
  it('starts full; takes while there are tokens; refills with the clock', () => {
    const c = clock();
    const b = new TokenBucket(10, 3, c.now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    c.advance(99);
    expect(b.take()).toBe(false);
    c.advance(1);
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });

  it('wait(): ms until the next token (0 when there is one)', () => {
    const c = clock();
    const b = new TokenBucket(4, 1, c.now);
    expect(b.wait()).toBe(0);
    b.take();
    expect(b.wait()).toBe(250);
    c.advance(100);
    expect(b.wait()).toBe(150);
    c.advance(150);
    expect(b.wait()).toBe(0);
  });

  it('a forced take may go below zero (a keepalive ping counts even past the burst); the deficit is paid back', () => {
    const c = clock();
    const b = new TokenBucket(10, 1, c.now);
    expect(b.take()).toBe(true);
    expect(b.take(1, true)).toBe(true);
    expect(b.wait()).toBe(200); // from -1 to 1 token at 10/s
    c.advance(200);
    expect(b.take()).toBe(true);
  });

  it('fill() back to burst; setRate keeps the level, capped at the new burst', () => {
    const c = clock();
    const b = new TokenBucket(10, 100, c.now);
    for (let i = 0; i < 100; i++) b.take();
    expect(b.take()).toBe(false);
    b.fill();
    expect(b.take(100)).toBe(true);
    b.fill();
    b.setRate(1000, 5);
    expect([b.perSecond, b.burst]).toEqual([1000, 5]);
    expect(b.take(5)).toBe(true);
    expect(b.take()).toBe(false);
    c.advance(1);
    expect(b.take()).toBe(true);
  });

  it('uses Date.now by default', () => {
    const b = new TokenBucket(1, 1);
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });
});
