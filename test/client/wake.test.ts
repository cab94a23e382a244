// @vitest-environment jsdom
/**
 * The browser's wake hints (`online`, the page visible again): a reconnect waiting out its backoff runs at once,
 * an open link is probed with `_ping`. Fake timers and the scripted FakeWebSocket, in jsdom's window.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Signal, type SignalOptions } from '../../src/client/index.js';
import { fakeWebSocket } from '../../src/testing/fake-websocket.js';

const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ sub: 'alice/web', aud: 'http://signal.test:7070' })}.sig`;

let visibility: DocumentVisibilityState = 'visible';
beforeEach(() => {
  vi.useFakeTimers();
  visibility = 'visible';
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function setup(opts: SignalOptions = {}) {
  const fake = fakeWebSocket();
  const states: string[] = [];
  const sig = new Signal(jwt, { WebSocket: fake.WebSocket, reconnect: () => 30_000, ...opts });
  sig.on('state', (s) => states.push(s));
  sig.on('error', () => {});
  return { sig, fake, states };
}
const online = (): boolean => window.dispatchEvent(new Event('online'));
const becomeVisible = (): void => {
  visibility = 'visible';
  document.dispatchEvent(new Event('visibilitychange'));
};

describe('wake hints', () => {
  it('online: a reconnect waiting out its backoff connects at once', () => {
    const { sig, fake } = setup();
    fake.last().accept();
    fake.last().drop();
    expect(sig.state).toBe('reconnecting');
    expect(fake.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1000); // the backoff (30 s here) is still running
    expect(fake.sockets).toHaveLength(1);
    online();
    expect(fake.sockets).toHaveLength(2);
    fake.last().accept();
    expect(sig.state).toBe('open');
    sig.dispose();
  });

  it('the page visible again: same; a hidden page changes nothing', () => {
    const { sig, fake } = setup();
    fake.last().accept();
    fake.last().drop();
    visibility = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    expect(fake.sockets).toHaveLength(1);
    becomeVisible();
    expect(fake.sockets).toHaveLength(2);
    sig.dispose();
  });

  it('an open link is probed with one _ping; no answer within pongTimeout reconnects', () => {
    const { sig, fake, states } = setup({ pongTimeout: 3000, pingInterval: 1e9 });
    fake.last().accept();
    const ws = fake.last();
    ws.sent.length = 0;
    online();
    becomeVisible(); // a second hint while the probe is out sends nothing more
    expect(ws.sent).toEqual(['_ping']);
    vi.advanceTimersByTime(2999);
    expect(sig.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(states.at(-1)).toBe('reconnecting');
    expect(ws.closedWith?.code).toBe(4000);
    sig.dispose();
  });

  it('an answered probe keeps the connection', () => {
    const { sig, fake } = setup({ pongTimeout: 3000, pingInterval: 1e9 });
    fake.last().accept();
    online();
    fake.last().receive('_pong');
    vi.advanceTimersByTime(10_000);
    expect(sig.state).toBe('open');
    expect(fake.sockets).toHaveLength(1);
    sig.dispose();
  });

  it('a closed client holds no listener; wakeEvents: false never listens', () => {
    const add = vi.spyOn(window, 'addEventListener');
    const remove = vi.spyOn(window, 'removeEventListener');
    const { sig, fake } = setup();
    expect(add.mock.calls.filter(([t]) => t === 'online')).toHaveLength(1);
    fake.last().accept();
    sig.close();
    expect(remove.mock.calls.filter(([t]) => t === 'online')).toHaveLength(1);
    online();
    expect(fake.sockets).toHaveLength(1);
    expect(sig.state).toBe('closed');
    sig.connect(); // listening again once connecting
    expect(add.mock.calls.filter(([t]) => t === 'online')).toHaveLength(2);
    sig.dispose();

    add.mockClear();
    const off = setup({ wakeEvents: false });
    expect(add.mock.calls.filter(([t]) => t === 'online')).toHaveLength(0);
    off.fake.last().accept();
    off.fake.last().drop();
    online();
    expect(off.fake.sockets).toHaveLength(1);
    off.sig.dispose();
  });
});
