/**
 * The Signal with getToken over the FakeWebSocket: on expiry, after a 4401, garbage.
 * Fake timers and the scripted FakeWebSocket (moved from test/unit/client-timing.test.ts, assertions unchanged).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jwt, nowS, setup } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('getToken', () => {
  it('on expiry: fetches while open (no reconnect), the next connect uses the fresh token', async () => {
    const fresh = jwt({ sub: 'alice/web', aud: 'http://h:1', exp: nowS() + 3600 });
    const getToken = vi.fn(async () => fresh);
    const { sig, fake } = setup(
      { getToken, reconnect: () => 10, pingInterval: 1e9 },
      { sub: 'alice/web', aud: 'http://h:1', exp: nowS() + 60 },
    );
    fake.last().accept();
    await vi.advanceTimersByTimeAsync(50_000);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(sig.token.jwt).toBe(fresh);
    expect(fake.sockets).toHaveLength(1);
    fake.last().drop();
    await vi.advanceTimersByTimeAsync(10);
    expect(fake.last().jwt).toBe(fresh);
    sig.close();
  });

  it('after a 4401: fetches and reconnects at once with the new token', async () => {
    const fresh = jwt({ sub: 'alice/web', aud: 'http://h:1', v: 2 });
    const getToken = vi.fn(async () => fresh);
    const { sig, fake, states } = setup({ getToken }, { sub: 'alice/web', aud: 'http://h:1', v: 1 });
    fake.last().open();
    fake.last().drop(4401, 'invalid token');
    await vi.advanceTimersByTimeAsync(0);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(fake.sockets).toHaveLength(2);
    expect(fake.last().jwt).toBe(fresh);
    fake.last().accept();
    expect(states).toEqual(['reconnecting', 'open']);
    sig.close();
  });

  it('getToken returning garbage is reported (SIGNAL_ERR_TOKEN), never thrown from a callback', async () => {
    const getToken = vi.fn(async () => 'not a jwt');
    const { sig, fake, errors } = setup({ getToken, reconnect: () => 100 });
    fake.last().open();
    fake.last().drop(4401, 'invalid token');
    await vi.advanceTimersByTimeAsync(0);
    expect(errors.map((e) => e.code)).toContain('SIGNAL_ERR_TOKEN');
    expect(sig.state).toBe('reconnecting');
    sig.close();
  });

  it('without getToken a 4401 closes with SIGNAL_ERR_UNAUTHORIZED and does not retry', () => {
    const { sig, fake, errors } = setup();
    fake.last().open();
    fake.last().drop(4401, 'token expired');
    expect(sig.state).toBe('closed');
    expect(errors.map((e) => [e.code, e.rpcCode])).toEqual([['SIGNAL_ERR_UNAUTHORIZED', -32001]]);
    vi.advanceTimersByTime(120_000);
    expect(fake.sockets).toHaveLength(1);
  });
});
