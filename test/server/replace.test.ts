/**
 * `replaces` (extension): a client reconnecting names its previous endpoint, and the server closes that endpoint at
 * once if it still holds it (a half-open socket after a network change), here or on another node, and drops it from
 * the rosters of the channels the client rejoins. So the peers never see a ghost of the client next to its new self,
 * instead of seeing it until the dead-peer timeout. Only an endpoint of the same identity and device is replaced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Signal, type Channel, type SignalOptions } from '../../src/client/index.js';
import { MemoryBroker } from '../../src/server/index.js';
import { NodeWebSocket, startTestServer, type TestServer } from '../../src/testing/index.js';
import { sleep, waitFor, stateTrail } from '../helpers/wait.js';
import { clientVia, TcpProxy } from './tcp-proxy.js';

const servers: TestServer[] = [];
const proxies: TcpProxy[] = [];
const clients: Signal[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  for (const p of proxies.splice(0)) await p.close();
  for (const s of servers.splice(0)) await s.close();
});

/** The server's own heartbeat would drop a frozen socket after this long: far longer than any wait below. */
const SLOW_HEARTBEAT = { pingIntervalMs: 60_000, pongTimeoutMs: 60_000 };

async function server(opts: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ ...opts, limits: { ...SLOW_HEARTBEAT, ...opts.limits } });
  servers.push(s);
  return s;
}

async function proxyTo(port: number): Promise<TcpProxy> {
  const p = await new TcpProxy(port).start();
  proxies.push(p);
  return p;
}

/** A client of `srv` through `proxy`, noticing a dead link within about a second. */
async function viaProxy(srv: TestServer, proxy: TcpProxy, identity: string, opts: SignalOptions = {}): Promise<Signal> {
  const sig = await clientVia(srv, proxy, identity, { reconnect: { initialDelay: 50, maxDelay: 100 }, pingInterval: 300, pongTimeout: 600, ...opts });
  clients.push(sig);
  return sig;
}

async function direct(srv: TestServer, identity: string, device = 'web'): Promise<Signal> {
  const sig = await srv.connect(identity, device);
  clients.push(sig);
  return sig;
}

type Ev = [string, number];
const track = (ch: Channel<object, unknown>): Ev[] => {
  const evs: Ev[] = [];
  ch.on('participant', (p, op) => evs.push([p.id, op]));
  return evs;
};

describe('replaces: a reconnecting client closes its own half-open endpoint', () => {
  it('one node: the frozen endpoint leaves as the client reconnects, long before the heartbeat; peers never see both', { timeout: 20_000 }, async () => {
    const srv = await server();
    const proxy = await proxyTo(srv.port);
    const alice = await viaProxy(srv, proxy, 'alice');
    const bob = await direct(srv, 'bob');
    const ca = alice.join<object, { v: number }>('room', { presence: true });
    const cb = bob.join<object, { v: number }>('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    ca.me.updateState({ v: 1 });
    await waitFor(() => [...cb.participants.values()][0]?.state);
    const oldAlice = ca.me.id!;
    const evB = track(cb);
    let both = false;
    cb.on('participant', () => {
      if (cb.participants.size > 1) both = true;
    });

    const trail = stateTrail(alice);
    proxy.freeze(); // nothing passes, nothing closes: the server still holds oldAlice
    const t0 = Date.now();
    await waitFor(() => trail.includes('reconnecting'), 5000, 'alice to notice the dead link');
    await waitFor(() => alice.state === 'open', 5000, 'alice back');
    await ca.ready;
    const newAlice = ca.me.id!;
    expect(newAlice).not.toBe(oldAlice);
    await waitFor(() => cb.participants.get(newAlice)?.state, 3000, 'bob to see the new alice with her state');
    expect(Date.now() - t0).toBeLessThan(8000); // the heartbeat would take 60 s
    expect([...cb.participants.keys()]).toEqual([newAlice]);
    expect(evB).toEqual([
      [oldAlice, -1],
      [newAlice, 1],
      [newAlice, 0],
    ]);
    expect(both).toBe(false);
    expect(srv.server.stats().connections).toBe(2);
    // A DM to the old endpoint reaches nobody; to the new one, alice.
    const got: unknown[] = [];
    alice.on('message', (m) => got.push(m.text));
    bob.send({ to: oldAlice, text: 'old' });
    bob.send({ to: newAlice, text: 'new' });
    await waitFor(() => got.length === 1);
    await sleep(100);
    expect(got).toEqual(['new']);
  });

  it('two nodes: the node still holding the frozen endpoint is told through the broker and closes it', { timeout: 20_000 }, async () => {
    const broker = new MemoryBroker();
    const secret = 'replace-two-nodes';
    const a = await server({ broker, secret });
    const b = await server({ broker, secret });
    const proxy = await proxyTo(a.port);
    const alice = await viaProxy(a, proxy, 'alice');
    const carol = await direct(a, 'carol'); // on alice's old node
    const bob = await direct(b, 'bob'); // on the node alice moves to
    const ca = alice.join('room', { presence: true });
    const cc = carol.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cc.ready, cb.ready]);
    await waitFor(() => ca.participants.size === 2 && cb.participants.size === 2 && cc.participants.size === 2);
    const oldAlice = ca.me.id!;

    proxy.retarget(b.port); // the load balancer sends the reconnect to the other node
    const trail = stateTrail(alice);
    proxy.freeze();
    const t0 = Date.now();
    await waitFor(() => trail.includes('reconnecting'), 5000);
    await waitFor(() => alice.state === 'open', 5000);
    await ca.ready;
    const newAlice = ca.me.id!;
    for (const ch of [cb, cc]) {
      await waitFor(() => ch.participants.has(newAlice) && !ch.participants.has(oldAlice), 3000, 'the ghost to go at both nodes');
    }
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(a.server.stats().connections).toBe(1); // carol only: the frozen socket was closed
    expect(b.server.stats().connections).toBe(2);
    expect([...ca.participants.values()].map((p) => p.identity).sort()).toEqual(['bob', 'carol']);
  });

  it('an endpoint of another identity or another device, or a malformed address, is never replaced', async () => {
    const srv = await server();
    const bob = await direct(srv, 'bob', 'web');
    const aliceWeb = await direct(srv, 'alice', 'web');
    const cb = bob.join('room', { presence: true });
    const cw = aliceWeb.join('room', { presence: true });
    await Promise.all([cb.ready, cw.ready]);
    const base = srv.url.replace(/^http/, 'ws') + '/signal/v1/pubsub';
    for (const target of [cb.me.id!, cw.me.id!, 'alice', 'alice/web', '///', 'x'.repeat(2000), cw.me.id! + '/extra']) {
      // alice on another device names bob's endpoint, then her web endpoint, then nonsense: all ignored.
      const sig = new Signal(await srv.token('alice', 'phone'), { WebSocket: NodeWebSocket, url: `${base}?replaces=${encodeURIComponent(target)}`, reconnect: false });
      clients.push(sig);
      await waitFor(() => sig.state === 'open', 5000);
      const ch = sig.join('room', { presence: true });
      await ch.ready;
      expect(new Set(ch.participants.keys())).toEqual(new Set([cb.me.id, cw.me.id]));
      sig.dispose();
    }
    await sleep(100);
    expect(bob.state).toBe('open');
    expect(aliceWeb.state).toBe('open');
    expect(cb.participants.size).toBe(1);
    expect(srv.server.stats().connections).toBe(2);
  });

  it('the client sends its last endpoint address when it connects again, and none on its first connect', async () => {
    const srv = await server();
    const urls: string[] = [];
    class Spy extends (NodeWebSocket as unknown as new (url: string) => object) {
      constructor(url: string) {
        urls.push(url);
        super(url);
      }
    }
    const sig = new Signal(await srv.token('alice', 'web'), { WebSocket: Spy as unknown as typeof NodeWebSocket });
    clients.push(sig);
    await waitFor(() => sig.state === 'open', 5000);
    expect(urls[0]).not.toContain('replaces=');
    const ch = sig.join('room');
    await ch.ready;
    const first = ch.me.id!;
    sig.close();
    sig.connect();
    await waitFor(() => sig.state === 'open', 5000);
    expect(new URL(urls[1]!).searchParams.get('replaces')).toBe(first);
  });
});
