/**
 * The Signal's connection over the FakeWebSocket: reconnect attempts, what counts as open, close() cleanup.
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

describe('Signal reconnect', () => {
  it('attempts grow while failing and reset to 0 once open', () => {
    const attempts: number[] = [];
    const { sig, fake, states } = setup({ reconnect: (n) => (attempts.push(n), 1000) });
    expect(sig.state).toBe('connecting');
    expect(fake.sockets).toHaveLength(1);
    expect(fake.last().url).toBe(`ws://signal.test:7070/signal/v1/pubsub?jwt=${encodeURIComponent(sig.token.jwt)}`);
    fake.last().drop();
    expect(attempts).toEqual([0]);
    vi.advanceTimersByTime(999);
    expect(fake.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(fake.sockets).toHaveLength(2);
    fake.last().drop();
    vi.advanceTimersByTime(1000);
    fake.last().drop();
    expect(attempts).toEqual([0, 1, 2]);
    vi.advanceTimersByTime(1000);
    fake.last().accept();
    expect(sig.state).toBe('open');
    fake.last().drop();
    expect(attempts).toEqual([0, 1, 2, 0]);
    expect(states).toEqual(['reconnecting', 'open', 'reconnecting']);
    sig.close();
  });

  it('open means: the socket opened and a first frame came back after the _ping', () => {
    const { sig, fake } = setup();
    fake.last().open();
    expect(fake.last().sent).toEqual(['_ping']);
    expect(sig.state).toBe('connecting');
    fake.last().receive('_pong');
    expect(sig.state).toBe('open');
    sig.close();
  });

  it('no first frame within pongTimeout: dropped and retried', () => {
    const { sig, fake } = setup({ reconnect: () => 500 });
    fake.last().open();
    vi.advanceTimersByTime(9_999);
    expect(fake.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(fake.sockets[0]!.closedWith?.code).toBe(4000);
    expect(sig.state).toBe('reconnecting');
    vi.advanceTimersByTime(500);
    expect(fake.sockets).toHaveLength(2);
    sig.close();
  });

  it('reconnect: false stays closed after a drop, reporting what was queued', () => {
    const { sig, fake, errors } = setup({ reconnect: false });
    sig.send({ to: 'bob', n: 1 });
    fake.last().drop();
    expect(sig.state).toBe('closed');
    expect(errors.map((e) => [e.code, e.payload])).toEqual([['SIGNAL_ERR_CLOSED', [{ to: 'bob', n: 1 }]]]);
    vi.advanceTimersByTime(60_000);
    expect(fake.sockets).toHaveLength(1);
  });
});

describe('close()', () => {
  it('leaves no timer or socket behind, whatever the state', () => {
    const { sig, fake } = setup({}, { sub: 'alice/web', aud: 'http://h:1' }); // no exp: the token holds no timer
    // open, with a pending join request and keepalive armed
    fake.last().accept();
    sig.join('room');
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    sig.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(fake.last().closedWith).toEqual({ code: 1000, reason: 'client closed' });
    expect(fake.last().onclose).toBeNull();
    // waiting to reconnect
    sig.connect();
    fake.last().drop();
    expect(sig.state).toBe('reconnecting');
    sig.close();
    expect(vi.getTimerCount()).toBe(0);
    // mid-handshake
    sig.connect();
    fake.last().open();
    sig.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(sig.state).toBe('closed');
    const count = fake.sockets.length;
    vi.advanceTimersByTime(120_000);
    expect(fake.sockets).toHaveLength(count);
  });

  it('rejects pending joins with SIGNAL_ERR_CLOSED and a later connect() rejoins', async () => {
    const { sig, fake } = setup({}, { sub: 'alice/web', aud: 'http://h:1' });
    fake.last().accept();
    const ch = sig.join('room');
    sig.close();
    expect(ch.status).toBe('joining');
    sig.connect();
    fake.last().accept();
    const join = JSON.parse(fake.last().sent[1]!) as { id: number };
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: join.id, result: { id: 'room', presence: false, address: 'alice/web/r1' } }));
    await ch.ready;
    expect(ch.status).toBe('joined');
    expect(ch.me.id).toBe('alice/web/r1');
    sig.close();
  });
});
