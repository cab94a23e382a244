/**
 * The Signal's keepalive over the FakeWebSocket: pings, the pong deadline, the opening handshake's deadline.
 * Fake timers and the scripted FakeWebSocket (moved from test/unit/client-timing.test.ts, assertions unchanged).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setup } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a connection attempt that never opens', () => {
  it('is dropped after pongTimeout and retried (a link that died mid-handshake never hangs the client)', () => {
    const { sig, fake, states } = setup({ pongTimeout: 1000, reconnect: { initialDelay: 100, maxDelay: 100, jitter: false } });
    expect(fake.sockets.length).toBe(1);
    vi.advanceTimersByTime(999);
    expect(fake.sockets.length).toBe(1);
    expect(sig.state).toBe('connecting');
    vi.advanceTimersByTime(1 + 100);
    expect(fake.sockets.length).toBe(2); // the stalled attempt was given up, and a new one made after the backoff
    expect(states).toEqual(['reconnecting']); // the constructor's 'connecting' is told after it returned, unless a change came first
    fake.last().accept();
    expect(sig.state).toBe('open');
    vi.advanceTimersByTime(5000); // once open, the handshake deadline is gone (keepalive pings answer it)
    expect(fake.sockets.length).toBe(2);
    sig.close();
  });
});

describe('keepalive', () => {
  it('sends _ping every 25 s; no reply within 10 s -> drop and reconnect', () => {
    const { sig, fake } = setup({ reconnect: () => 1000 });
    fake.last().accept();
    const ws = fake.last();
    vi.advanceTimersByTime(25_000);
    expect(ws.sent.filter((f) => f === '_ping')).toHaveLength(2); // handshake + keepalive
    ws.receive('_pong');
    vi.advanceTimersByTime(24_999);
    expect(ws.sent.filter((f) => f === '_ping')).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(ws.sent.filter((f) => f === '_ping')).toHaveLength(3);
    vi.advanceTimersByTime(9_999);
    expect(sig.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(ws.closedWith?.code).toBe(4000);
    expect(sig.state).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    expect(fake.sockets).toHaveLength(2);
    sig.close();
  });

  it('pings more often than pongTimeout do not push the deadline', () => {
    const { sig, fake } = setup({ pingInterval: 500, pongTimeout: 1000, reconnect: () => 10_000 });
    fake.last().accept();
    vi.advanceTimersByTime(500); // ping, deadline at 1500
    vi.advanceTimersByTime(999); // another ping at 1000 must not move it
    expect(sig.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(sig.state).toBe('reconnecting');
    expect(fake.sockets[0]!.closedWith?.code).toBe(4000);
    sig.close();
  });

  it('any frame counts as a sign of life', () => {
    const { sig, fake } = setup();
    fake.last().accept();
    vi.advanceTimersByTime(25_000);
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method: 'signal.send', params: { from: 'b/w/r', to: 'alice', x: 1 } }));
    vi.advanceTimersByTime(10_000);
    expect(sig.state).toBe('open');
    expect(fake.sockets).toHaveLength(1);
    sig.close();
  });

  it('socket callbacks never throw on garbage from the server', () => {
    const { sig, fake } = setup();
    fake.last().accept();
    const ws = fake.last();
    for (const junk of ['not json', '[]', '42', '{"method":"signal.send"}', '{"method":"x","params":{}}', '{"id":99,"result":1}', new Uint8Array([1, 2]), null]) {
      expect(() => ws.receive(junk)).not.toThrow();
    }
    sig.on('message', () => {
      throw new Error('a listener that throws');
    });
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => ws.receive(JSON.stringify({ jsonrpc: '2.0', method: 'signal.send', params: { from: 'b/w/r', to: 'alice' } }))).not.toThrow();
    spy.mockRestore();
    expect(sig.state).toBe('open');
    sig.close();
  });
});
