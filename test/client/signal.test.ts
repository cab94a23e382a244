/**
 * The Signal front (src/client/signal.ts) over its parts: what a new user trips over (events from the constructor,
 * `ready` when the client closes), the connection phase seen from outside, routing by channel.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessToken, Signal, type SignalError } from '../../src/client/index.js';
import { fakeWebSocket } from '../../src/testing/fake-websocket.js';
import { jwt, nowS, setup } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const token = (claims: Record<string, unknown> = {}) => jwt({ sub: 'alice/web', aud: 'http://h:1', ...claims });
const reply = (fake: ReturnType<typeof fakeWebSocket>, method = 'signal.join', result: object = { address: 'alice/web/r1' }) => {
  const req = fake.last().sent.filter((f) => f.includes(method)).map((f) => JSON.parse(f) as { id: number }).at(-1)!;
  fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: req.id, result }));
};

describe('what the constructor does is told after it returned', () => {
  it('no WebSocket implementation: the error reaches a listener attached after the constructor; ready rejects', async () => {
    vi.stubGlobal('WebSocket', undefined);
    const sig = new Signal(token());
    const errors: SignalError[] = [];
    const states: string[] = [];
    sig.on('error', (e) => errors.push(e));
    sig.on('state', (s) => states.push(s));
    const ch = sig.join('room');
    expect(sig.state).toBe('closed');
    await expect(ch.ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_CLOSED', channel: 'room', message: expect.stringContaining('no WebSocket implementation') });
    expect(errors.map((e) => e.code)).toEqual(['SIGNAL_ERR_CONNECTION']);
    expect(errors[0]!.message).toMatch(/pass options\.WebSocket/);
    expect(states).toEqual([]); // it never left 'closed'
  });

  it("the first 'connecting' reaches a listener attached after the constructor", async () => {
    const fake = fakeWebSocket();
    const sig = new Signal(token(), { WebSocket: fake.WebSocket });
    const seen: [string, string][] = [];
    sig.on('state', (s, prev) => seen.push([s, prev]));
    expect(sig.state).toBe('connecting');
    await Promise.resolve();
    expect(seen).toEqual([['connecting', 'closed']]);
    fake.last().accept();
    expect(seen).toEqual([['connecting', 'closed'], ['open', 'connecting']]);
    sig.close();
  });

  it("a change right after the constructor comes first, and no stale 'connecting' after it", async () => {
    const { sig, fake, states } = setup({ reconnect: () => 1000 });
    fake.last().drop();
    await Promise.resolve();
    expect(states).toEqual(['reconnecting']);
    sig.close();
  });

  it('autoConnect: false tells nothing and makes no socket', async () => {
    const { sig, fake, states, errors } = setup({ autoConnect: false });
    await Promise.resolve();
    expect([sig.state, fake.sockets.length, states, errors]).toEqual(['closed', 0, [], []]);
  });
});

describe('ready when the client closes', () => {
  it('close() rejects a join waiting; the channel stays and connect() joins it again with a new ready', async () => {
    const { sig, fake } = setup({ pingInterval: 1e9 });
    const ch = sig.join('room');
    const first = ch.ready;
    sig.close();
    await expect(first).rejects.toMatchObject({ code: 'SIGNAL_ERR_CLOSED', channel: 'room' });
    expect(ch.status).toBe('joining');
    expect(ch.ready).toBe(first);
    sig.connect();
    fake.last().accept();
    expect(ch.ready).not.toBe(first);
    reply(fake);
    await expect(ch.ready).resolves.toBeUndefined();
    expect(ch.status).toBe('joined');
    sig.close();
  });

  it('a join after close() fails at once; one on a client never connected waits for connect()', async () => {
    const { sig, fake } = setup({ autoConnect: false, pingInterval: 1e9 });
    const waiting = sig.join('early').ready;
    let settled = false;
    waiting.then(() => (settled = true), () => (settled = true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(settled).toBe(false);
    sig.connect();
    fake.last().accept();
    reply(fake);
    await expect(waiting).resolves.toBeUndefined();
    sig.close();
    await expect(sig.join('late').ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_CLOSED', channel: 'late' });
  });

  it('closed for good by the server (4401 without getToken, or a drop with reconnect: false): ready rejects', async () => {
    const a = setup();
    const chA = a.sig.join('room');
    a.fake.last().open();
    a.fake.last().drop(4401, 'token expired');
    await expect(chA.ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_CLOSED', message: expect.stringContaining('unauthorized') });
    const b = setup({ reconnect: false });
    const chB = b.sig.join('room');
    b.fake.last().drop();
    await expect(chB.ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_CLOSED' });
    expect(b.sig.state).toBe('closed');
  });

  it('a drop that will be retried keeps ready waiting', async () => {
    const { sig, fake } = setup({ reconnect: () => 100, pingInterval: 1e9 });
    const ch = sig.join('room');
    let settled = false;
    ch.ready.then(() => (settled = true), () => (settled = true));
    fake.last().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBe(false);
    fake.last().accept();
    reply(fake);
    await ch.ready;
    expect(settled).toBe(true);
    sig.close();
  });
});

describe('tokens and the connection phase', () => {
  it('a token taken in place keeps every channel joined; a later 4401 then compares with the new token', async () => {
    const t = new AccessToken(token({ v: 1 }));
    const fake = fakeWebSocket();
    const sig = new Signal(t, { WebSocket: fake.WebSocket, pingInterval: 1e9 });
    const errors: SignalError[] = [];
    sig.on('error', (e) => errors.push(e));
    fake.last().accept();
    const ch = sig.join('room');
    reply(fake);
    await ch.ready;
    const statuses: string[] = [];
    ch.on('status', (s) => statuses.push(s));
    t.update(token({ v: 2 }));
    reply(fake, 'signal.refresh', {});
    await vi.advanceTimersByTimeAsync(0);
    expect([ch.status, statuses, sig.state]).toEqual(['joined', [], 'open']);
    fake.last().drop(4401, 'expired'); // the token the server holds is the current one: nothing to redial with
    expect(sig.state).toBe('closed');
    expect(errors.map((e) => e.code)).toEqual(['SIGNAL_ERR_UNAUTHORIZED']);
    expect(fake.sockets).toHaveLength(1);
    t.dispose();
  });

  it('a 4401 while an expiry fetch is out: the fetch that comes back connects (no client stuck reconnecting)', async () => {
    let resolve!: (t: string) => void;
    const getToken = vi.fn(() => new Promise<string>((r) => (resolve = r)));
    const { sig, fake, states } = setup({ getToken, pingInterval: 1e9 }, { sub: 'alice/web', aud: 'http://h:1', exp: nowS() + 60 });
    fake.last().accept();
    await vi.advanceTimersByTimeAsync(50_000); // 'expired' fires: getToken is out
    expect(getToken).toHaveBeenCalledTimes(1);
    fake.last().drop(4401, 'token expired');
    expect(sig.state).toBe('reconnecting');
    const fresh = jwt({ sub: 'alice/web', aud: 'http://h:1', exp: nowS() + 3600 });
    resolve(fresh);
    await vi.advanceTimersByTimeAsync(0);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(fake.sockets).toHaveLength(2);
    expect(fake.last().jwt).toBe(fresh);
    fake.last().accept();
    expect(states).toEqual(['open', 'reconnecting', 'open']);
    sig.close();
  });

  it('a token update after close() never reopens; after a refused token it reconnects', () => {
    const t = new AccessToken(token({ v: 1 }));
    const fake = fakeWebSocket();
    const sig = new Signal(t, { WebSocket: fake.WebSocket });
    sig.on('error', () => {});
    fake.last().open();
    fake.last().drop(4401, 'bad');
    expect(sig.state).toBe('closed');
    t.update(token({ v: 2 }));
    expect(fake.sockets).toHaveLength(2);
    sig.close();
    t.update(token({ v: 3 }));
    expect(fake.sockets).toHaveLength(2);
    expect(sig.state).toBe('closed');
    t.dispose();
  });

  it('a late callback of a replaced socket changes nothing', () => {
    const { sig, fake } = setup({ reconnect: () => 10 });
    const old = fake.last();
    const onmessage = old.onmessage!;
    const onclose = old.onclose!;
    old.drop();
    vi.advanceTimersByTime(10);
    fake.last().accept();
    onmessage({ data: '_pong' });
    onclose({ code: 1006, reason: '' });
    expect(sig.state).toBe('open');
    expect(fake.sockets).toHaveLength(2);
    sig.close();
  });
});

describe('routing', () => {
  it('by channel only: a channel it has not joined drops the frame; no channel means a direct message', async () => {
    const { sig, fake } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    const ch = sig.join('room');
    reply(fake);
    await ch.ready;
    const direct: unknown[] = [];
    const inRoom: unknown[] = [];
    sig.on('message', (m) => direct.push(m));
    ch.on('message', (m) => inRoom.push(m));
    const send = (params: object) => fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method: 'signal.send', params }));
    send({ from: 'bob/web/r', to: 'alice', $typing: 5000 });
    send({ from: 'bob/web/r', to: 'alice', id: 'elsewhere', text: 'x' });
    send({ from: 'bob/web/r', to: 'alice', id: 'room', text: 'y' });
    expect(direct).toEqual([{ from: 'bob/web/r', to: 'alice', $typing: 5000 }]);
    expect(inRoom).toEqual([{ from: 'bob/web/r', to: 'alice', id: 'room', text: 'y' }]);
    sig.close();
  });
});
