import { afterEach, describe, expect, it } from 'vitest';
import { AccessToken, Signal, type SignalOptions } from '../../src/client/index.js';
import { createInPageServer, MemoryBroker, SignalCore, signAccessToken, type InPageServer } from '../../src/server/browser.js';
import { waitFor } from '../helpers/wait.js';

let srv: InPageServer | null = null;
const clients: Signal[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  await srv?.close();
  srv = null;
});

async function connect(server: InPageServer, identity: string, device?: string, opts: SignalOptions = {}): Promise<Signal> {
  const sig = new Signal(new AccessToken(await server.token(identity, device)), { WebSocket: server.WebSocket, ...opts });
  clients.push(sig);
  await waitFor(() => sig.state === 'open', 5000, `${identity} open`);
  return sig;
}

describe('in-page server (SignalCore over an in-page transport)', () => {
  it('derives the socket URL from the token aud and delivers direct messages asynchronously', async () => {
    srv = createInPageServer();
    const alice = await connect(srv, 'alice', 'web');
    const bob = await connect(srv, 'bob', 'phone');
    expect(srv.connections()).toBe(2);
    expect(srv.connections('bob')).toBe(1);
    const got: { from: string; text?: unknown }[] = [];
    bob.on('message', (m) => got.push(m));
    alice.send({ to: 'bob', text: 'hi' });
    // Delivery is asynchronous, like a real socket: nothing has arrived synchronously.
    expect(got).toHaveLength(0);
    await waitFor(() => got.length === 1, 3000, 'dm');
    expect(got[0]).toMatchObject({ text: 'hi', to: 'bob', from: expect.stringMatching(/^alice\/web\/.+/) });
    // Reply to the exact endpoint.
    const back: unknown[] = [];
    alice.on('message', (m) => back.push(m));
    bob.send({ to: got[0]!.from, text: 'hello' });
    await waitFor(() => back.length === 1, 3000, 'reply');
  });

  it('keeps frame order both ways', async () => {
    srv = createInPageServer();
    const alice = await connect(srv, 'alice');
    const bob = await connect(srv, 'bob');
    const seen: number[] = [];
    bob.on('message', (m) => seen.push((m as { n: number }).n));
    for (let n = 0; n < 100; n++) alice.send({ to: 'bob', n });
    await waitFor(() => seen.length === 100, 5000, '100 messages');
    expect(seen).toEqual([...Array(100).keys()]);
  });

  it('runs channels, presence and state through the same core', async () => {
    srv = createInPageServer({ latency: 2 });
    const alice = await connect(srv, 'alice', 'a');
    const bob = await connect(srv, 'bob', 'b');
    const ca = alice.join<{ text: string }, { name: string }>('room', { presence: true });
    await ca.ready;
    ca.me.updateState({ name: 'Alice' });
    const cb = bob.join<{ text: string }, { name: string }>('room', { presence: true });
    await cb.ready;
    await waitFor(() => [...cb.participants.values()][0]?.state, 3000, 'state of alice');
    expect([...cb.participants.values()][0]!.state).toEqual({ name: 'Alice' });
    await waitFor(() => ca.participants.size === 1, 3000, 'alice sees bob');
    const msgs: { text: string }[] = [];
    ca.on('message', (m) => msgs.push(m));
    cb.publish({ text: 'yo' });
    await waitFor(() => msgs.length === 1, 3000, 'publish');
    expect(msgs[0]!.text).toBe('yo');
    expect(srv.core.stats().channels).toBe(1);
  });

  it('refuses a bad token with 4401 (same jose verifier as the Node server)', async () => {
    srv = createInPageServer({ secret: 'right' });
    const jwt = await signAccessToken({ secret: 'wrong', identity: 'mallory', audience: srv.url });
    const sig = new Signal(jwt, { WebSocket: srv.WebSocket, reconnect: false });
    clients.push(sig);
    const errors: { code: string }[] = [];
    sig.on('error', (e) => errors.push(e));
    await waitFor(() => sig.state === 'closed' && errors.length > 0, 5000, 'refusal');
    expect(errors[0]!.code).toBe('SIGNAL_ERR_UNAUTHORIZED');
    expect(srv.connections()).toBe(0);
  });

  it('drop() cuts a connection: the others see a leave, the client reconnects, rejoins and restores state', async () => {
    srv = createInPageServer();
    const fast: SignalOptions = { reconnect: { initialDelay: 50, maxDelay: 200 } };
    const alice = await connect(srv, 'alice', 'a', fast);
    const bob = await connect(srv, 'bob', 'b');
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    ca.me.updateState({ cursor: 1 });
    const cb = bob.join('room', { presence: true });
    await cb.ready;
    await waitFor(() => [...cb.participants.values()][0]?.state, 8000, 'state');
    const ops: number[] = [];
    cb.on('participant', (_p, op) => ops.push(op));
    const states: string[] = [];
    alice.on('state', (s) => states.push(s));

    expect(srv.drop('alice')).toBe(1);
    // Seen through the op log, not by polling the roster: alice may be back (fast reconnect) before a poll runs.
    await waitFor(() => ops.includes(-1), 8000, 'bob sees alice leave');
    await waitFor(() => alice.state === 'open', 8000, 'alice back');
    expect(states).toContain('reconnecting');
    await waitFor(() => [...cb.participants.values()][0]?.state, 5000, 'alice back in the room with her state');
    expect([...cb.participants.values()][0]!.state).toEqual({ cursor: 1 });
    expect(ops[0]).toBe(-1);
    expect(ops).toContain(1);
  });

  it('setOnline(false) keeps an identity out until it is back online', async () => {
    srv = createInPageServer();
    const fast: SignalOptions = { reconnect: { initialDelay: 30, maxDelay: 60 } };
    const alice = await connect(srv, 'alice', 'a', fast);
    srv.setOnline('alice', false);
    await waitFor(() => alice.state === 'reconnecting', 3000, 'reconnecting');
    // Several retries fail while offline.
    await new Promise((r) => setTimeout(r, 400));
    expect(alice.state).toBe('reconnecting');
    expect(srv.connections('alice')).toBe(0);
    srv.setOnline('alice', true);
    await waitFor(() => alice.state === 'open', 5000, 'online again');
    expect(srv.connections('alice')).toBe(1);
  });

  it('a client close() leaves presence at once; close() of the server closes every client with 1001', async () => {
    srv = createInPageServer();
    const alice = await connect(srv, 'alice');
    const bob = await connect(srv, 'bob', undefined, { reconnect: false });
    const ca = alice.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    await waitFor(() => ca.participants.size === 1, 3000, 'alice sees bob');
    bob.close();
    await waitFor(() => ca.participants.size === 0, 3000, 'bob left');
    await waitFor(() => srv!.connections() === 1, 3000, 'one connection');
    const s = srv;
    srv = null;
    await s.close();
    await waitFor(() => alice.state !== 'open', 3000, 'alice closed by shutdown');
  });

  it('two in-page servers over one MemoryBroker route between each other', async () => {
    const broker = new MemoryBroker();
    const one = createInPageServer({ secret: 's', core: new SignalCore({ broker }) });
    const two = createInPageServer({ secret: 's', core: new SignalCore({ broker }) });
    try {
      const alice = await connect(one, 'alice');
      const bob = await connect(two, 'bob');
      const got: unknown[] = [];
      bob.on('message', (m) => got.push(m));
      alice.send({ to: 'bob', text: 'across nodes' });
      await waitFor(() => got.length === 1, 3000, 'cross-node dm');
    } finally {
      for (const c of clients.splice(0)) c.dispose();
      await one.close();
      await two.close();
    }
  });
});
