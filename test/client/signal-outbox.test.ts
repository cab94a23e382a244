/**
 * The Signal's outgoing queue over the FakeWebSocket: the bound, refusals, order, pacing under the server's rate.
 * Fake timers and the scripted FakeWebSocket (moved from test/unit/client-timing.test.ts, assertions unchanged).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalError } from '../../src/client/index.js';
import { fakeWebSocket } from '../../src/testing/fake-websocket.js';
import { setup, sentFrames } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
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
      { jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true, batch: true }, id: 1 },
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
