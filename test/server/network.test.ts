/**
 * The client's link through a TCP proxy: a cut link (RST) and a frozen one (nothing passes,
 * nothing closes). The client notices, reconnects, rejoins; peers converge.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Signal, type Channel, type SignalOptions } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor, stateTrail } from '../helpers/wait.js';
import { clientVia, TcpProxy } from './tcp-proxy.js';

let srv: TestServer;
let proxy: TcpProxy;
const clients: Signal[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  await proxy?.close();
  await srv?.close();
});

async function viaProxy(identity: string, opts: SignalOptions = {}): Promise<Signal> {
  const sig = await clientVia(srv, proxy, identity, opts);
  clients.push(sig);
  return sig;
}
type Ev = [string, number];
const track = (ch: Channel<object, unknown>): Ev[] => {
  const evs: Ev[] = [];
  ch.on('participant', (p, op) => evs.push([p.identity, op]));
  return evs;
};

describe('network faults', () => {
  it('a cut link: the client reconnects and rejoins; unchanged peers keep their Participant, no events', async () => {
    srv = await startTestServer();
    proxy = await new TcpProxy(srv.port).start();
    const alice = await viaProxy('alice');
    const bob = await srv.connect('bob', 'web');
    const ca = alice.join<object, { v: number }>('room', { presence: true });
    const cb = bob.join<object, { v: number }>('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    ca.me.updateState({ v: 1 });
    cb.me.updateState({ v: 2 });
    await waitFor(() => ca.participants.size === 1 && cb.participants.size === 1 && [...cb.participants.values()][0]!.state);
    const bobAtAlice = [...ca.participants.values()][0]!;
    const evA = track(ca);
    const evB = track(cb);
    const oldAlice = ca.me.id;

    const trail = stateTrail(alice);
    proxy.cut();
    await waitFor(() => trail.includes('reconnecting'), 3000);
    const got: unknown[] = [];
    bob.on('message', (m) => got.push(m.text));
    alice.send({ to: 'bob', text: 'sent during the cut' });
    await waitFor(() => alice.state === 'open', 5000);
    await ca.ready;
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['sent during the cut']);
    // Bob sees the old endpoint leave and the new one arrive, with the state restored.
    await waitFor(() => cb.participants.size === 1 && [...cb.participants.values()][0]!.id !== oldAlice && [...cb.participants.values()][0]!.state, 5000);
    expect([...cb.participants.values()][0]!.state).toEqual({ v: 1 });
    expect(evB).toEqual([
      ['alice', -1],
      ['alice', 1],
      ['alice', 0],
    ]);
    // Alice kept Bob (same address, same state): the very same Participant, no events.
    expect([...ca.participants.values()][0]).toBe(bobAtAlice);
    expect(evA).toEqual([]);
  });

  it('a peer that left and joined again without state while the link was cut: its old state is dropped (op 0)', async () => {
    srv = await startTestServer();
    proxy = await new TcpProxy(srv.port).start();
    const alice = await viaProxy('alice', { reconnect: { initialDelay: 400, maxDelay: 400, jitter: false } });
    const bob = await srv.connect('bob', 'web');
    clients.push(bob);
    const ca = alice.join<object, { v: number }>('room', { presence: true });
    const cb = bob.join<object, { v: number }>('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    cb.me.updateState({ v: 7 });
    await waitFor(() => [...ca.participants.values()][0]?.state?.v === 7, 5000, 'alice sees bob\'s state');
    const bobAtAlice = [...ca.participants.values()][0]!;
    const evA = track(ca);

    proxy.cut();
    await waitFor(() => alice.state === 'reconnecting', 3000);
    // While alice is away, bob leaves and joins again on the same connection (same address), with no state.
    cb.leave();
    await bob.join('room', { presence: true }).ready;
    await waitFor(() => alice.state === 'open', 5000, 'alice back');
    await ca.ready;
    // Same address, so the same Participant; but the state it held is gone on the server, so it is gone here.
    expect([...ca.participants.values()]).toEqual([bobAtAlice]);
    expect(bobAtAlice.state).toBeUndefined();
    expect(evA).toEqual([['bob', 0]]);
  });

  it('a frozen link: the client keepalive notices and reconnects; its frozen endpoint is replaced, not left as a ghost', { timeout: 40_000 }, async () => {
    srv = await startTestServer();
    proxy = await new TcpProxy(srv.port).start();
    const alice = await viaProxy('alice', { pingInterval: 500, pongTimeout: 1000 });
    const bob = await srv.connect('bob', 'web');
    const ca = alice.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    await waitFor(() => cb.participants.size === 1);
    const oldAlice = ca.me.id;
    const states: string[] = [];
    alice.on('state', (s) => states.push(s));

    const trail = stateTrail(alice);
    proxy.freeze();
    const t0 = Date.now();
    await waitFor(() => trail.includes('reconnecting'), 5000, 'alice to notice the dead link');
    expect(Date.now() - t0).toBeLessThan(4000);
    await waitFor(() => alice.state === 'open', 5000);
    await ca.ready;
    expect(ca.me.id).not.toBe(oldAlice);
    expect(states).toEqual(['reconnecting', 'open']);
    // The reconnect names the frozen endpoint (`replaces`), so the server closes it at once (test/server/replace.test.ts).
    await waitFor(() => [...cb.participants.keys()].includes(ca.me.id!), 3000);
    await waitFor(() => !cb.participants.has(oldAlice!), 16_000, 'the ghost to leave');
    expect(Date.now() - t0).toBeLessThanOrEqual(15_000);
    expect([...cb.participants.keys()]).toEqual([ca.me.id]);
    expect(srv.server.stats().connections).toBe(2);
  });

  it('a frozen peer that never comes back: the server\'s heartbeat drops it within 15 s', { timeout: 40_000 }, async () => {
    srv = await startTestServer();
    proxy = await new TcpProxy(srv.port).start();
    const alice = await viaProxy('alice', { reconnect: false });
    const bob = await srv.connect('bob', 'web');
    const ca = alice.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    await waitFor(() => cb.participants.size === 1);
    proxy.freeze(); // a laptop shut: nothing passes, nothing closes, no reconnect
    const t0 = Date.now();
    await waitFor(() => cb.participants.size === 0, 16_000, 'the vanished peer to leave');
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThan(5_000); // not an orderly close: the silence had to be noticed
    expect(ms).toBeLessThanOrEqual(15_000);
    expect(srv.server.stats().connections).toBe(1);
  });
});
