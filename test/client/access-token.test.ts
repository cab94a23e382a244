/**
 * AccessToken (src/client/access-token.ts) and the URL derived from its aud.
 * Fake timers and the scripted FakeWebSocket (moved from test/unit/client-timing.test.ts, assertions unchanged).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessToken, Signal, urlFromToken } from '../../src/client/index.js';
import { fakeWebSocket } from '../../src/testing/fake-websocket.js';
import { jwt, nowS } from './helpers.js';

const T0 = Date.UTC(2030, 0, 1);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('AccessToken', () => {
  it('parses sub, claims and aud; refuses a sub without a device', () => {
    const t = new AccessToken(jwt({ sub: 'alice/web', aud: 'https://x.example', role: 'admin' }));
    expect([t.identity, t.device, t.audience, t.claims.role]).toEqual(['alice', 'web', 'https://x.example', 'admin']);
    expect(() => new AccessToken(jwt({ sub: 'alice' }))).toThrow(TypeError);
    expect(() => new AccessToken('nope')).toThrow(TypeError);
    expect(() => new AccessToken('a.!!!.c')).toThrow(TypeError);
  });

  it("fires 'expired' 10 s before exp, once; update() reschedules and emits 'updated'", () => {
    const t = new AccessToken(jwt({ sub: 'a/b', exp: nowS() + 60 }));
    const fired: number[] = [];
    t.on('expired', () => fired.push(Date.now() - T0));
    vi.advanceTimersByTime(49_999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([50_000]);
    vi.advanceTimersByTime(60_000);
    expect(fired).toEqual([50_000]);
    const updated: AccessToken[] = [];
    t.on('updated', (x) => updated.push(x));
    t.update(jwt({ sub: 'a/b', exp: nowS() + 30 }));
    expect(updated).toEqual([t]);
    expect(t.isExpired()).toBe(false);
    vi.advanceTimersByTime(19_999);
    expect(fired).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([50_000, 130_000]);
    t.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a token within 10 s of exp fires at once; one far ahead waits past the 32-bit timer limit', () => {
    const soon = new AccessToken(jwt({ sub: 'a/b', exp: nowS() + 5 }));
    let s = 0;
    soon.on('expired', () => s++);
    vi.advanceTimersByTime(0);
    expect(s).toBe(1);
    const far = new AccessToken(jwt({ sub: 'a/b', exp: nowS() + 60 * 24 * 3600 })); // 60 days
    let f = 0;
    far.on('expired', () => f++);
    vi.advanceTimersByTime(30 * 24 * 3600 * 1000);
    expect(f).toBe(0);
    vi.advanceTimersByTime(30 * 24 * 3600 * 1000 - 10_000);
    expect(f).toBe(1);
    far.dispose();
  });

  it('update(jwt) is used by the next connect; a malformed update throws and keeps the old token', () => {
    const token = new AccessToken(jwt({ sub: 'alice/web', aud: 'http://h:1', v: 1 }));
    const fake = fakeWebSocket();
    const sig = new Signal(token, { WebSocket: fake.WebSocket, reconnect: () => 10 });
    fake.last().accept();
    const second = jwt({ sub: 'alice/web', aud: 'http://h:1', v: 2 });
    token.update(second);
    expect(fake.sockets).toHaveLength(1); // no reconnect just for an update
    expect(() => token.update('garbage')).toThrow(TypeError);
    expect(token.jwt).toBe(second);
    fake.last().drop();
    vi.advanceTimersByTime(10);
    expect(fake.last().jwt).toBe(second);
    sig.dispose();
  });
});

describe('urlFromToken', () => {
  it('derives ws(s) URLs from aud; a base already holding v1 uses /signal/pubsub', () => {
    const u = (aud: unknown) => urlFromToken(new AccessToken(jwt({ sub: 'a/b', aud })));
    expect(u('http://localhost:7070')).toBe('ws://localhost:7070/signal/v1/pubsub');
    expect(u('https://api.example.com/')).toBe('wss://api.example.com/signal/v1/pubsub');
    expect(u('https://api.example.com/v1')).toBe('wss://api.example.com/v1/signal/pubsub');
    expect(u(['https://first.example', 'x'])).toBe('wss://first.example/signal/v1/pubsub');
    expect(() => u(undefined)).toThrow(TypeError);
  });
});
