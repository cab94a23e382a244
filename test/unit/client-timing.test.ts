/**
 * Timing-only units of the client, with fake timers and the scripted FakeWebSocket: backoff,
 * reconnect timer reset, the bounded outgoing queue, close() cleanup, keepalive, token expiry.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AccessToken,
  exponentialBackoff,
  Signal,
  SignalError,
  Timer,
  urlFromToken,
  type SignalOptions,
} from '../../src/client/index.js';
import { fakeWebSocket } from '../../src/testing/fake-websocket.js';

const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An unsigned JWT (the client never checks signatures). */
const jwt = (claims: Record<string, unknown>): string => `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(claims)}.sig`;
const T0 = Date.UTC(2030, 0, 1);
const nowS = (): number => Math.floor(Date.now() / 1000);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(opts: SignalOptions = {}, claims: Record<string, unknown> = { sub: 'alice/web', aud: 'http://signal.test:7070' }) {
  const fake = fakeWebSocket();
  const errors: SignalError[] = [];
  const states: string[] = [];
  const sig = new Signal(jwt(claims), { WebSocket: fake.WebSocket, ...opts });
  sig.on('error', (e) => errors.push(e));
  sig.on('state', (s) => states.push(s));
  return { sig, fake, errors, states };
}
const sentFrames = (frames: string[]) => frames.map((f) => (f === '_ping' ? f : (JSON.parse(f) as unknown)));

describe('exponentialBackoff', () => {
  it('full jitter stays within [0, cap); caps double from 1 s to 30 s', () => {
    const hi = exponentialBackoff({}, () => 0.999999);
    const caps = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
    caps.forEach((cap, attempt) => {
      const d = hi(attempt);
      expect(d).toBeLessThan(cap);
      expect(d).toBeGreaterThanOrEqual(cap - 1);
    });
    expect(exponentialBackoff({}, () => 0)(7)).toBe(0);
    expect(exponentialBackoff({ jitter: false })(0)).toBe(1000);
    expect(exponentialBackoff({ jitter: false })(3)).toBe(8000);
    expect(exponentialBackoff({ jitter: false })(1000)).toBe(30000);
    const d = exponentialBackoff();
    for (let attempt = 0; attempt < 200; attempt++) {
      const v = d(attempt % 12);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(Math.min(30000, 1000 * 2 ** (attempt % 12)));
      expect(Number.isInteger(v)).toBe(true);
    }
  });

  it('options: initial delay, factor, cap', () => {
    const d = exponentialBackoff({ initialDelay: 100, factor: 3, maxDelay: 1000, jitter: false });
    expect([0, 1, 2, 3, 4].map(d)).toEqual([100, 300, 900, 1000, 1000]);
  });
});

describe('Timer', () => {
  it('schedules with the attempt count, cancel and reset start over', () => {
    const fn = vi.fn();
    const delays: number[] = [];
    const t = new Timer(fn, (n) => (delays.push(n), 100 * (n + 1)));
    t.schedule();
    expect(t.pending).toBe(true);
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.pending).toBe(false);
    t.schedule();
    t.cancel();
    vi.advanceTimersByTime(10_000);
    expect(fn).toHaveBeenCalledTimes(1);
    t.reset();
    t.schedule();
    expect(delays).toEqual([0, 1, 0]);
    t.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });
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

describe('outgoing queue', () => {
  it('is bounded: past maxQueue a send is reported with its payload (SIGNAL_ERR_QUEUE_FULL), the rest flush in order', () => {
    const { sig, fake, errors } = setup({ maxQueue: 3 });
    for (let n = 1; n <= 5; n++) sig.send({ to: 'bob', n });
    expect(sig.queued).toBe(3);
    expect(errors.map((e) => [e.code, e.method, e.payload])).toEqual([
      ['SIGNAL_ERR_QUEUE_FULL', 'signal.send', { to: 'bob', n: 4 }],
      ['SIGNAL_ERR_QUEUE_FULL', 'signal.send', { to: 'bob', n: 5 }],
    ]);
    expect(errors[0]).toBeInstanceOf(SignalError);
    fake.last().accept();
    expect(sig.queued).toBe(0);
    expect(sentFrames(fake.last().sent)).toEqual([
      '_ping',
      ...[1, 2, 3].map((n) => ({ jsonrpc: '2.0', method: 'signal.send', params: { to: 'bob', n } })),
    ]);
    sig.close();
  });

  it('the default bound is 256', () => {
    const { sig, errors } = setup();
    for (let n = 0; n < 257; n++) sig.send({ to: 'bob', n });
    expect(sig.queued).toBe(256);
    expect(errors.map((e) => e.code)).toEqual(['SIGNAL_ERR_QUEUE_FULL']);
    sig.close();
  });

  it('sending after close() is reported (SIGNAL_ERR_CLOSED with the payload), never silently dropped', () => {
    const { sig, errors } = setup();
    sig.send({ to: 'bob', n: 1 });
    sig.close();
    expect(errors.map((e) => [e.code, e.payload])).toEqual([['SIGNAL_ERR_CLOSED', [{ to: 'bob', n: 1 }]]]);
    sig.send({ to: 'bob', n: 2 });
    expect(errors.map((e) => [e.code, e.payload])[1]).toEqual(['SIGNAL_ERR_CLOSED', { to: 'bob', n: 2 }]);
  });

  it('a plain send never carries an id; channel publishes and joins do, after the join', () => {
    const { sig, fake } = setup();
    sig.send({ to: 'bob', id: 'sneaky', text: 'x' } as never);
    const ch = sig.join('room', { presence: true });
    ch.publish({ text: 'hi' });
    fake.last().accept();
    expect(sentFrames(fake.last().sent)).toEqual([
      '_ping',
      { jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true }, id: 1 },
      { jsonrpc: '2.0', method: 'signal.send', params: { to: 'bob', text: 'x' } },
      { jsonrpc: '2.0', method: 'signal.publish', params: { text: 'hi', id: 'room' } },
    ]);
    sig.close();
  });
});

describe('pacing (under the server rate limit)', () => {
  const sends = (ws: { sent: string[] }) => ws.sent.filter((f) => f.includes('signal.send')).length;

  it('past the burst, frames leave at framesPerSecond, in order, none lost', () => {
    const { sig, fake, errors } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    for (let n = 0; n < 300; n++) sig.send({ to: 'bob', n });
    expect(sends(fake.last())).toBe(180);
    expect(sig.queued).toBe(120);
    vi.advanceTimersByTime(1000);
    expect(sends(fake.last())).toBeGreaterThanOrEqual(180 + 44);
    expect(sends(fake.last())).toBeLessThanOrEqual(180 + 46);
    vi.advanceTimersByTime(2000);
    expect(sends(fake.last())).toBe(300);
    const ns = fake.last().sent.filter((f) => f.includes('signal.send')).map((f) => (JSON.parse(f) as { params: { n: number } }).params.n);
    expect(ns).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(errors).toEqual([]);
    sig.close();
  });

  it('the paced queue is bounded by maxQueue too', () => {
    const { sig, fake, errors } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    for (let n = 0; n < 500; n++) sig.send({ to: 'bob', n });
    expect(sends(fake.last())).toBe(180);
    expect(sig.queued).toBe(256);
    expect(errors.map((e) => e.code)).toEqual(Array(64).fill('SIGNAL_ERR_QUEUE_FULL'));
    expect(errors[0]!.payload).toEqual({ to: 'bob', n: 436 });
    sig.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a drop keeps queued user calls for the next connection (after the rejoin), drops control frames', () => {
    const { sig, fake } = setup({ pingInterval: 1e9, reconnect: () => 10 }, { sub: 'alice/web', aud: 'http://h:1' });
    fake.last().accept();
    const ch = sig.join('room');
    for (let n = 0; n < 200; n++) ch.publish({ n });
    fake.last().drop();
    expect(sig.queued).toBe(21); // 1 join + 179 publishes went out
    vi.advanceTimersByTime(10);
    fake.last().accept();
    const sent = fake.last().sent.slice(1).map((f) => JSON.parse(f) as { method: string; params: { n?: number } });
    expect(sent[0]!.method).toBe('signal.join');
    expect(sent.slice(1).map((f) => f.params.n)).toEqual(Array.from({ length: 21 }, (_, i) => 179 + i));
    sig.close();
  });

  const joinReply = (fake: ReturnType<typeof fakeWebSocket>, rate: unknown) => {
    const req = fake.last().sent.map((f) => (f === '_ping' ? null : (JSON.parse(f) as { id?: number; method: string }))).find((f) => f?.method === 'signal.join');
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: req!.id, result: { id: 'room', address: 'alice/web/r', rate } }));
  };

  it('adopts 90% of the rate the server tells in a join reply', async () => {
    const { sig, fake } = setup({ pingInterval: 1e9, maxQueue: 5000 });
    fake.last().accept();
    const ch = sig.join('room');
    joinReply(fake, { framesPerSecond: 1000, burst: 1000 });
    await ch.ready;
    for (let n = 0; n < 1200; n++) ch.publish({ n });
    const pubs = () => fake.last().sent.filter((f) => f.includes('signal.publish')).length;
    expect(pubs()).toBe(179); // what was left of the default burst
    vi.advanceTimersByTime(1000); // refills at 900/s (the default pace would allow 45)
    expect(pubs()).toBeGreaterThanOrEqual(179 + 890);
    expect(pubs()).toBeLessThanOrEqual(179 + 900);
    vi.advanceTimersByTime(1000);
    expect(pubs()).toBe(1200);
    sig.close();
  });

  it('an unlimited server (huge or null rate) means no pacing; an explicit rateLimit wins', async () => {
    for (const rate of [{ framesPerSecond: 1e9, burst: 1e9 }, { framesPerSecond: null, burst: null }]) {
      const { sig, fake } = setup({ pingInterval: 1e9, maxQueue: 10_000 });
      fake.last().accept();
      const ch = sig.join('room');
      joinReply(fake, rate);
      await ch.ready;
      for (let n = 0; n < 2000; n++) sig.send({ to: 'bob', n });
      expect(fake.last().sent.filter((f) => f.includes('signal.send'))).toHaveLength(2000);
      sig.close();
    }
    const { sig, fake } = setup({ pingInterval: 1e9, rateLimit: { framesPerSecond: 10, burst: 5 } });
    fake.last().accept();
    const ch = sig.join('room');
    joinReply(fake, { framesPerSecond: 1e9, burst: 1e9 });
    await ch.ready;
    for (let n = 0; n < 20; n++) sig.send({ to: 'bob', n });
    expect(fake.last().sent.filter((f) => f.includes('signal.send'))).toHaveLength(4);
    sig.close();
  });

  it('rateLimit: false sends at once', () => {
    const { sig, fake } = setup({ rateLimit: false, pingInterval: 1e9 });
    fake.last().accept();
    for (let n = 0; n < 500; n++) sig.send({ to: 'bob', n });
    expect(sends(fake.last())).toBe(500);
    sig.close();
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

describe('a connection attempt that never opens', () => {
  it('is dropped after pongTimeout and retried (a link that died mid-handshake never hangs the client)', () => {
    const { sig, fake, states } = setup({ pongTimeout: 1000, reconnect: { initialDelay: 100, maxDelay: 100, jitter: false } });
    expect(fake.sockets.length).toBe(1);
    vi.advanceTimersByTime(999);
    expect(fake.sockets.length).toBe(1);
    expect(sig.state).toBe('connecting');
    vi.advanceTimersByTime(1 + 100);
    expect(fake.sockets.length).toBe(2); // the stalled attempt was given up, and a new one made after the backoff
    expect(states).toEqual(['reconnecting']); // 'connecting' was emitted in the constructor, before the listener
    fake.last().accept();
    expect(sig.state).toBe('open');
    vi.advanceTimersByTime(5000); // once open, the handshake deadline is gone (keepalive pings answer it)
    expect(fake.sockets.length).toBe(2);
    sig.close();
  });
});

describe('frames the client does not handle', () => {
  it('an unknown method, or a reply with an id it never sent (string, null, object), changes nothing and reports nothing', async () => {
    const { sig, fake, errors } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    const ch = sig.join('room', { presence: true });
    const join = JSON.parse(fake.last().sent.find((f) => f.includes('signal.join'))!) as { id: number };
    const seen: unknown[] = [];
    sig.on('message', (m) => seen.push(m));
    ch.on('message', (m) => seen.push(m));
    ch.on('participant', (p) => seen.push(p.id));
    for (const method of ['signal.future', 'signal.join_later', 'signal.sendx']) {
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method, params: { id: 'room', from: 'bob/web/r1', text: 'x' } }));
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method, params: { from: 'bob/web/r1', to: 'alice', text: 'x' } }));
    }
    for (const id of [String(join.id), null, { n: join.id }, true, 'x'.repeat(100)]) {
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id, result: { id: 'room', address: 'alice/web/r' } }));
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32002, message: 'no' } }));
    }
    expect(seen).toEqual([]);
    expect(errors).toEqual([]);
    expect(ch.status).toBe('joining');
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: join.id, result: { id: 'room', address: 'alice/web/r' } }));
    await ch.ready;
    expect(ch.status).toBe('joined');
    sig.close();
  });
});

describe('join request', () => {
  it('no reply within requestTimeout: the join is asked again, and the late reply resolves ready', async () => {
    const { sig, fake } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    const ch = sig.join('slow', { presence: true });
    const joins = () => fake.last().sent.filter((f) => f.includes('signal.join')).map((f) => JSON.parse(f) as { id: number });
    expect(joins()).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(joins()).toHaveLength(2);
    expect(ch.status).toBe('joining');
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: joins()[1]!.id, result: { id: 'slow', address: 'alice/web/r' } }));
    await ch.ready;
    expect(ch.status).toBe('joined');
    // A reply to the timed-out first request is ignored.
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: joins()[0]!.id, error: { code: -32002, message: 'late' } }));
    expect(ch.status).toBe('joined');
    sig.close();
  });

  it('a refusal fails the channel with the server error and removes it', async () => {
    const { sig, fake, errors } = setup();
    fake.last().accept();
    const ch = sig.join('nope');
    const chErrors: SignalError[] = [];
    ch.on('error', (e) => chErrors.push(e));
    const req = JSON.parse(fake.last().sent[1]!) as { id: number };
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: req.id, error: { code: -32002, message: 'forbidden' } }));
    await expect(ch.ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_FORBIDDEN', rpcCode: -32002, channel: 'nope', method: 'signal.join' });
    expect(ch.status).toBe('failed');
    expect(sig.channels.has('nope')).toBe(false);
    expect(chErrors).toHaveLength(1);
    expect(errors).toEqual([]);
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
