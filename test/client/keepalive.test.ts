/** Keepalive (src/client/keepalive.ts): the ping interval and the pong deadline, with fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepalive } from '../../src/client/keepalive.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(interval = 1000, timeout = 300) {
  const log: string[] = [];
  const k = keepalive(interval, timeout, () => log.push(`ping@${Date.now()}`), () => log.push(`dead@${Date.now()}`));
  return { k, log };
}

describe('keepalive', () => {
  it('pings every interval once started; an answer clears each deadline', () => {
    vi.setSystemTime(0);
    const { k, log } = setup();
    k.start();
    vi.advanceTimersByTime(1000);
    expect(k.waiting).toBe(true);
    k.alive();
    expect(k.waiting).toBe(false);
    vi.advanceTimersByTime(1000);
    k.alive();
    expect(log).toEqual(['ping@1000', 'ping@2000']);
    k.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('no answer within timeout: dead, once', () => {
    vi.setSystemTime(0);
    const { k, log } = setup();
    k.start();
    vi.advanceTimersByTime(1299);
    expect(log).toEqual(['ping@1000']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['ping@1000', 'dead@1300']);
    k.stop();
  });

  it('a later ping (or expect) never pushes back a running deadline', () => {
    vi.setSystemTime(0);
    const { k, log } = setup(100, 250);
    k.start();
    vi.advanceTimersByTime(349); // pings at 100, 200, 300: the deadline stays at 350
    expect(log).toEqual(['ping@100', 'ping@200', 'ping@300']);
    vi.advanceTimersByTime(1);
    expect(log.at(-1)).toBe('dead@350');
    k.stop();
  });

  it('expect() alone (a connection attempt) and probe() (a wake hint) arm the deadline without the interval', () => {
    vi.setSystemTime(0);
    const { k, log } = setup(1000, 300);
    k.expect();
    vi.advanceTimersByTime(300);
    expect(log).toEqual(['dead@300']);
    k.probe();
    expect(log).toEqual(['dead@300', 'ping@300']);
    k.alive();
    vi.advanceTimersByTime(5000);
    expect(log).toEqual(['dead@300', 'ping@300']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('start() again restarts cleanly; stop() leaves no timer', () => {
    const { k } = setup();
    k.start();
    k.expect();
    k.start();
    expect(k.waiting).toBe(false);
    k.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
