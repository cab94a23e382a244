/**
 * Limits and refusals through the real client: channels per connection, the authorize hook,
 * the slow-consumer cap, and `ch.ready` resolving or rejecting with the server's SignalError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SignalError, type Signal } from '../../src/client/index.js';
import { ERROR } from '../../src/protocol/constants.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';

let srv: TestServer;
const pool = new RawPool();
afterEach(async () => {
  pool.closeAll();
  await srv?.close();
});

function errorsOf(sig: Signal): SignalError[] {
  const out: SignalError[] = [];
  sig.on('error', (e) => out.push(e));
  return out;
}

describe('channels per connection', () => {
  it('the 101st join is refused with SIGNAL_ERR_TOO_MANY_CHANNELS (-32005); leaving one frees a slot', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const chans = Array.from({ length: 100 }, (_, i) => alice.join(`c${i}`));
    await Promise.all(chans.map((c) => c.ready));
    const extra = alice.join('one-too-many', { presence: true });
    const chErrors: SignalError[] = [];
    extra.on('error', (e) => chErrors.push(e));
    const err = await extra.ready.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SignalError);
    expect(err).toMatchObject({
      code: 'SIGNAL_ERR_TOO_MANY_CHANNELS',
      rpcCode: ERROR.TOO_MANY_CHANNELS,
      method: 'signal.join',
      channel: 'one-too-many',
    });
    expect(extra.status).toBe('failed');
    expect(extra.error).toBe(err);
    expect(chErrors).toEqual([err]);
    expect(alice.channels.has('one-too-many')).toBe(false);
    expect(() => extra.publish({ x: 1 })).toThrow(/failed/);
    // Other channels are unaffected; after leaving one, the join succeeds.
    chans[0]!.leave();
    const retry = alice.join('one-too-many');
    expect(retry).not.toBe(extra);
    await retry.ready;
    expect(retry.status).toBe('joined');
    expect(alice.state).toBe('open');
    expect(srv.server.stats().channels).toBe(100);
  });

  it('the limit is configurable and counts per connection, not per user', async () => {
    srv = await startTestServer({ limits: { maxChannelsPerConnection: 2 } });
    const tab1 = await srv.connect('alice', 'web');
    const tab2 = await srv.connect('alice', 'web');
    await tab1.join('a').ready;
    await tab1.join('b').ready;
    await expect(tab1.join('c').ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_TOO_MANY_CHANNELS' });
    await tab2.join('c').ready;
  });
});

describe('authorize hook', () => {
  it('false, a rejected promise or a throw -> SIGNAL_ERR_FORBIDDEN (-32002); true joins; claims are passed', async () => {
    const calls: [unknown, string][] = [];
    srv = await startTestServer({
      authorize: async (claims, channel) => {
        calls.push([claims.sub, channel]);
        if (channel === 'throws') throw new Error('boom');
        if (channel === 'sync-throws') return (() => { throw new Error('sync boom'); })();
        if (channel === 'slow') return new Promise((r) => setTimeout(() => r(true), 100));
        return channel.startsWith('public:') || channel === 'slow';
      },
    });
    const alice = await srv.connect('alice', 'web');
    const errors = errorsOf(alice);
    for (const name of ['private:x', 'throws', 'sync-throws']) {
      const ch = alice.join(name, { presence: true });
      await expect(ch.ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_FORBIDDEN', rpcCode: ERROR.FORBIDDEN, method: 'signal.join', channel: name });
      expect(ch.status).toBe('failed');
    }
    const ok = alice.join('public:lobby', { presence: true });
    const slow = alice.join('slow');
    await Promise.all([ok.ready, slow.ready]);
    expect(calls).toEqual([
      ['alice/web', 'private:x'],
      ['alice/web', 'throws'],
      ['alice/web', 'sync-throws'],
      ['alice/web', 'public:lobby'],
      ['alice/web', 'slow'],
    ]);
    // Refused joins reach the channel's error event, not the connection's.
    expect(errors).toEqual([]);
    expect(alice.state).toBe('open');
  });

  it('a synchronous authorize that throws is refused too, and an SDK notification join gets signal.error', async () => {
    srv = await startTestServer({
      authorize: (_claims, channel) => {
        if (channel === 'bad') throw new Error('sync');
        return channel !== 'no';
      },
    });
    const raw = await pool.connect(srv.url, await srv.token('old', 'sdk'));
    raw.notify('signal.join', { id: 'no', presence: true });
    expect(await raw.next()).toStrictEqual({
      jsonrpc: '2.0',
      method: 'signal.error',
      params: { code: ERROR.FORBIDDEN, message: expect.any(String), method: 'signal.join', id: 'no' },
    });
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'bad' }, id: 1 });
    expect(await raw.next()).toStrictEqual({ jsonrpc: '2.0', id: 1, error: { code: ERROR.FORBIDDEN, message: expect.any(String) } });
    // A refused join leaves no trace: publishing there is NOT_JOINED.
    raw.notify('signal.publish', { id: 'no', x: 1 });
    expect((await raw.next()).params).toMatchObject({ code: ERROR.NOT_JOINED });
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'yes' }, id: 2 });
    expect(await raw.next()).toMatchObject({ id: 2, result: { id: 'yes' } });
  });
});

describe('hung authorize', () => {
  it('an authorize that never answers refuses the join after authorizeTimeoutMs; later calls are not stalled', async () => {
    srv = await startTestServer({
      limits: { authorizeTimeoutMs: 200 },
      authorize: (_claims, channel) => (channel === 'hangs' ? new Promise<boolean>(() => {}) : true),
    });
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'web');
    const got: unknown[] = [];
    bob.on('message', (m) => got.push(m));
    const started = Date.now();
    const hung = alice.join('hangs', { presence: true });
    await expect(hung.ready).rejects.toMatchObject({
      code: 'SIGNAL_ERR_FORBIDDEN',
      rpcCode: ERROR.FORBIDDEN,
      channel: 'hangs',
      message: expect.stringContaining('did not answer within 200 ms'),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(hung.status).toBe('failed');
    // The connection's later calls run (they queue behind the join, in order).
    await alice.join('fine').ready;
    alice.send({ to: 'bob', text: 'still here' });
    await waitFor(() => got.length === 1, 5000, 'bob gets the message');
    expect(alice.state).toBe('open');
  });
});

describe('slow authorize', () => {
  it('slower than requestTimeout: the client asks again and ends joined, once, on both sides', async () => {
    let calls = 0;
    srv = await startTestServer({
      authorize: async (claims) => {
        if (claims.sub === 'alice/web') calls++;
        await new Promise((r) => setTimeout(r, 400));
        return true;
      },
    });
    const alice = await srv.connect('alice', 'web', { requestTimeout: 250 });
    const bob = await srv.connect('bob', 'web');
    const cb = bob.join('room', { presence: true });
    await cb.ready;
    const evs: number[] = [];
    cb.on('participant', (_p, op) => evs.push(op));
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    expect(ca.status).toBe('joined');
    expect(calls).toBe(1); // the repeated join finds Alice joined: no second authorize, no second announcement
    await waitFor(() => cb.participants.size === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(evs).toEqual([1]);
  });
});

describe('join result', () => {
  it('ch.ready resolves with the join; me.id is the endpoint address; a second join returns the same channel', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const ch = alice.join('room', { presence: true });
    expect(ch.status).toBe('joining');
    await ch.ready;
    expect(ch.status).toBe('joined');
    expect(ch.me.id).toMatch(/^alice\/web\/[a-z0-9]+$/);
    expect(alice.join('room')).toBe(ch);
    expect(() => alice.join('')).toThrow(TypeError);
    expect(() => alice.join('x'.repeat(257))).toThrow(TypeError);
    expect(() => alice.send({ to: '' } as never)).toThrow(TypeError);
    for (const to of ['a//b', 'a/b/c/d', '/x', 'x/', 42]) expect(() => alice.send({ to } as never)).toThrow(TypeError);
  });

  it('a join made while connecting is sent once open', async () => {
    srv = await startTestServer();
    const { Signal } = await import('../../src/client/index.js');
    const { NodeWebSocket } = await import('../../src/testing/index.js');
    const sig = new Signal(await srv.token('alice', 'web'), { WebSocket: NodeWebSocket });
    try {
      expect(sig.state).toBe('connecting');
      const ch = sig.join('early', { presence: true });
      ch.me.updateState({ early: true });
      sig.send({ to: 'alice', text: 'queued' });
      await ch.ready;
      expect(sig.queued).toBe(0);
      const bob = await srv.connect('bob', 'web');
      const cb = bob.join('early', { presence: true });
      await cb.ready;
      await waitFor(() => [...cb.participants.values()][0]?.state);
      expect([...cb.participants.values()][0]!.state).toEqual({ early: true });
    } finally {
      sig.dispose();
    }
  });
});

describe('client pacing follows the server', () => {
  it('a server with raised limits tells them in the join reply: the client then sends 1000 frames at once', async () => {
    srv = await startTestServer({ limits: { framesPerSecond: 1e9, frameBurst: 1e9 } });
    const alice = await srv.connect('alice', 'web', { maxQueue: 5000 });
    const bob = await srv.connect('bob', 'web');
    await alice.join('any').ready;
    let got = 0;
    bob.on('message', () => got++);
    const t0 = Date.now();
    for (let n = 0; n < 1000; n++) alice.send({ to: 'bob', n });
    await waitFor(() => got === 1000, 5000);
    expect(Date.now() - t0).toBeLessThan(3000); // paced at the default 45/s this would take 18 s
  });

  it('with the default limits, 400 sends at once are paced and all delivered (the server would refuse half)', { timeout: 20_000 }, async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'web');
    const errors = errorsOf(alice);
    let got = 0;
    bob.on('message', () => got++);
    for (let n = 0; n < 400; n++) alice.send({ to: 'bob', n });
    await waitFor(() => got === 400, 15_000);
    expect(errors).toEqual([]);
  });
});

describe('frame size on the client', () => {
  it('a call bigger than maxFrameBytes is refused locally (SIGNAL_ERR_TOO_LARGE with the payload); the connection stays', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'web');
    const errors = errorsOf(alice);
    const got: unknown[] = [];
    bob.on('message', (m) => got.push((m.blob as string).length));
    const big = { to: 'bob', blob: 'x'.repeat(70_000) };
    alice.send(big);
    const euros = { to: 'bob', blob: '€'.repeat(30_000) }; // 30k characters, 90 kB of UTF-8
    alice.send(euros);
    const ch = alice.join('room');
    await ch.ready;
    ch.publish({ blob: 'y'.repeat(66_000) });
    expect(errors.map((e) => [e.code, e.rpcCode, e.method])).toEqual([
      ['SIGNAL_ERR_TOO_LARGE', undefined, 'signal.send'],
      ['SIGNAL_ERR_TOO_LARGE', undefined, 'signal.send'],
      ['SIGNAL_ERR_TOO_LARGE', undefined, 'signal.publish'],
    ]);
    expect(errors[0]!.payload).toEqual(big);
    alice.send({ to: 'bob', blob: 'z'.repeat(60_000) });
    await waitFor(() => got.length === 1);
    expect(got).toEqual([60_000]);
    expect(alice.state).toBe('open');
  });
});

describe('slow consumer', () => {
  it('one socket that stops reading is dropped; the others keep receiving everything', { timeout: 30_000 }, async () => {
    srv = await startTestServer({ limits: { maxBufferedBytes: 1024 * 1024, framesPerSecond: 1e6, frameBurst: 1e6, bytesPerSecond: 1e9, byteBurst: 1e9 } });
    const slow = await pool.connect(srv.url, await srv.token('slow', 'x'));
    slow.notify('signal.join', { id: 'fire' });
    const fast = await srv.connect('fast', 'x');
    const ch = fast.join<{ n: number }>('fire');
    await ch.ready;
    let got = 0;
    let inOrder = true;
    ch.on('message', (m) => {
      if (m.n !== got) inOrder = false;
      got++;
    });
    const pub = await pool.connect(srv.url, await srv.token('pub', 'x'));
    pub.notify('signal.join', { id: 'fire' });
    await waitFor(() => srv.server.stats().connections === 3);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // ~20 MB in paced batches (a reader keeping up never holds more than a batch): far past the
    // kernel buffers and the 1 MiB cap for the one that stopped reading.
    const blob = 'z'.repeat(8 * 1024);
    const N = 2400;
    for (let n = 0; n < N; n++) {
      pub.notify('signal.publish', { id: 'fire', n, blob });
      if (n % 40 === 39) await waitFor(() => got === n + 1, 10_000, `the fast consumer to get message ${n}`);
    }
    await waitFor(() => got === N, 10_000, 'the fast consumer to get every message');
    expect(inOrder).toBe(true);
    await waitFor(() => srv.server.stats().connections === 2, 5000, 'the slow consumer to be dropped');
    expect(pub.isOpen).toBe(true);
    expect(fast.state).toBe('open');
  });
});
