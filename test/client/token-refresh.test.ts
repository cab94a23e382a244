/** Token refresh (src/client/token-refresh.ts): getToken one at a time, and the in-place hand-over (`signal.refresh`). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessToken } from '../../src/client/access-token.js';
import { SignalError } from '../../src/client/errors.js';
import { refreshInPlace, sameSubject, TokenFetch, type FetchOutcome } from '../../src/client/token-refresh.js';
import { jwt, nowS } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

function holder(first = jwt({ sub: 'alice/web', v: 1 })) {
  const h = {
    token: new AccessToken(first),
    setToken: vi.fn((t: AccessToken) => {
      h.token = t;
    }),
  };
  return h;
}
async function run(getToken: (() => Promise<string | AccessToken>) | undefined, h = holder()) {
  const f = new TokenFetch(getToken, h);
  const done: [FetchOutcome, string | undefined][] = [];
  const started = f.run((o, why) => done.push([o, why]));
  await vi.advanceTimersByTimeAsync(0);
  return { started, done, h, f };
}

describe('TokenFetch', () => {
  it('without getToken: disabled, nothing runs', async () => {
    const { started, done, f } = await run(undefined);
    expect([f.enabled, started, done]).toEqual([false, false, []]);
  });

  it('a JWT string updates the token in place; an AccessToken replaces it through setToken', async () => {
    const fresh = jwt({ sub: 'alice/web', v: 2 });
    const a = await run(async () => fresh);
    expect(a.done).toEqual([['ok', undefined]]);
    expect(a.h.token.jwt).toBe(fresh);
    expect(a.h.setToken).not.toHaveBeenCalled();
    const other = new AccessToken(jwt({ sub: 'alice/web', v: 3 }));
    const b = await run(async () => other);
    expect(b.done).toEqual([['ok', undefined]]);
    expect(b.h.setToken).toHaveBeenCalledWith(other);
  });

  it('one fetch at a time: a second run while one is out does nothing', async () => {
    let resolve!: (t: string) => void;
    const getToken = vi.fn(() => new Promise<string>((r) => (resolve = r)));
    const f = new TokenFetch(getToken, holder());
    const done: FetchOutcome[] = [];
    expect(f.run((o) => done.push(o))).toBe(true);
    expect(f.run((o) => done.push(o))).toBe(false);
    resolve(jwt({ sub: 'alice/web', v: 2 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual(['ok']);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(f.run((o) => done.push(o))).toBe(true); // free again
  });

  it('failures come to done with why, never thrown: rejected, thrown synchronously, garbage, wrong type, expired', async () => {
    const cases: [() => Promise<string | AccessToken>, FetchOutcome, RegExp][] = [
      [async () => Promise.reject(new Error('offline')), 'failed', /^getToken failed: offline$/],
      [() => { throw new Error('sync'); }, 'failed', /^getToken failed: sync$/],
      [async () => 'not a jwt', 'failed', /^getToken returned a bad token: /],
      [async () => 42 as unknown as string, 'failed', /must resolve to a JWT string or an AccessToken/],
      [async () => jwt({ sub: 'alice/web', exp: nowS() - 1 }), 'expired', /^getToken returned an expired token$/],
    ];
    for (const [getToken, outcome, why] of cases) {
      const { done } = await run(getToken);
      expect(done).toHaveLength(1);
      expect(done[0]![0]).toBe(outcome);
      expect(done[0]![1]).toMatch(why);
    }
  });
});

describe('sameSubject', () => {
  it('same identity and device only; an unreadable token never', () => {
    const t = new AccessToken(jwt({ sub: 'alice/web', v: 2 }));
    expect(sameSubject(jwt({ sub: 'alice/web', v: 1 }), t)).toBe(true);
    expect(sameSubject(jwt({ sub: 'alice/phone' }), t)).toBe(false);
    expect(sameSubject(jwt({ sub: 'bob/web' }), t)).toBe(false);
    expect(sameSubject('garbage', t)).toBe(false);
  });
});

describe('refreshInPlace', () => {
  const connected = jwt({ sub: 'alice/web', v: 1 });
  it('nothing to hand over: the same token, an expired one, another identity or device', () => {
    const request = vi.fn(async () => ({}));
    expect(refreshInPlace(connected, new AccessToken(connected), request)).toBeNull();
    expect(refreshInPlace(connected, new AccessToken(jwt({ sub: 'alice/web', exp: nowS() - 1 })), request)).toBeNull();
    expect(refreshInPlace(connected, new AccessToken(jwt({ sub: 'alice/phone' })), request)).toBeNull();
    expect(request).not.toHaveBeenCalled();
  });

  it('sends signal.refresh {jwt}; resolves with the new JWT once taken', async () => {
    const next = new AccessToken(jwt({ sub: 'alice/web', v: 2 }));
    const request = vi.fn(async () => ({}));
    await expect(refreshInPlace(connected, next, request)).resolves.toBe(next.jwt);
    expect(request).toHaveBeenCalledWith('signal.refresh', { jwt: next.jwt });
  });

  it('an older server (-32601) or a connection gone meanwhile: null, nothing to report; any other refusal rejects', async () => {
    const next = new AccessToken(jwt({ sub: 'alice/web', v: 2 }));
    const refuse = (e: SignalError) => async () => Promise.reject(e);
    await expect(refreshInPlace(connected, next, refuse(SignalError.fromRpc(-32601, 'unknown method')))).resolves.toBeNull();
    await expect(refreshInPlace(connected, next, refuse(new SignalError('SIGNAL_ERR_CLOSED', 'not connected')))).resolves.toBeNull();
    const forbidden = SignalError.fromRpc(-32001, 'wrong subject');
    await expect(refreshInPlace(connected, next, refuse(forbidden))).rejects.toBe(forbidden);
  });
});
