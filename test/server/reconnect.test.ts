/**
 * Server restarts and the token path, end to end: clients reconnect, rejoin, restore `me` state,
 * peers see them again, vanished participants are removed with op -1; 4401 and expiry fetch a
 * fresh token through `getToken`; `update(jwt)` is used by the next connect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AccessToken, Signal, SignalError, type Channel, type SignalOptions } from '../../src/client/index.js';
import { NodeWebSocket, startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';

const servers: TestServer[] = [];
const clients: Signal[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  for (const s of servers.splice(0)) await s.server.close();
});

async function start(opts: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(opts);
  servers.push(s);
  return s;
}
/** Stop a server without touching clients (they must notice on their own). */
async function stop(s: TestServer): Promise<void> {
  servers.splice(servers.indexOf(s), 1);
  await s.server.close();
}

const FAST: SignalOptions['reconnect'] = { initialDelay: 50, maxDelay: 250 };

function client(jwt: string | AccessToken, opts: SignalOptions = {}): Signal {
  const sig = new Signal(jwt, { WebSocket: NodeWebSocket, reconnect: FAST, ...opts });
  clients.push(sig);
  return sig;
}
const open = (sig: Signal, ms = 5000) => waitFor(() => sig.state === 'open', ms, 'open');
const idsOf = (ch: Channel<object, unknown>) => [...ch.participants.values()].map((p) => p.identity).sort();

describe('server restart on the same port', () => {
  it('clients reconnect, rejoin, restore state; peers see them again; the vanished are removed with op -1', { timeout: 30_000 }, async () => {
    const s1 = await start();
    const { port, secret } = s1;
    // Alice retries every 500 ms, so the receiver of her queued message is back before her.
    const alice = client(await s1.token('alice', 'web'), { reconnect: () => 500 });
    const bob = client(await s1.token('bob', 'web'));
    const carol = client(await s1.token('carol', 'web'), { reconnect: false });
    await Promise.all([open(alice), open(bob), open(carol)]);
    const ca = alice.join<{ text: string }, { name: string }>('room', { presence: true });
    const cb = bob.join<{ text: string }, { name: string }>('room', { presence: true });
    const cc = carol.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready, cc.ready]);
    ca.me.updateState({ name: 'Alice' });
    cb.me.updateState({ name: 'Bob' });
    await waitFor(() => idsOf(ca).join() === 'bob,carol' && [...ca.participants.values()].some((p) => p.state));
    await waitFor(() => idsOf(cb).join() === 'alice,carol' && [...cb.participants.values()].some((p) => p.state));
    const oldBob = cb.me.id;
    const evA: [string, number][] = [];
    ca.on('participant', (p, op) => evA.push([p.identity, op]));
    const states: string[] = [];
    alice.on('state', (st) => states.push(st));

    await stop(s1);
    await waitFor(() => alice.state === 'reconnecting' && bob.state === 'reconnecting' && carol.state === 'closed');
    expect(ca.status).toBe('joining');
    // Sent while down: queued, then delivered after the reconnect (nothing lost).
    alice.send({ to: 'erin', text: 'queued while down' });
    expect(alice.queued).toBe(1);

    const s2 = await start({ port, secret });
    expect(s2.port).toBe(port);
    const erin = client(await s2.token('erin', 'web'));
    const dms: unknown[] = [];
    erin.on('message', (m) => dms.push(m.text));
    await open(erin);
    await Promise.all([open(alice), open(bob)]);
    await Promise.all([ca.ready, cb.ready]);
    expect(ca.status).toBe('joined');
    // Bob again, with his state, at a new address; Carol (gone) removed with op -1.
    await waitFor(() => idsOf(ca).join() === 'bob' && [...ca.participants.values()][0]!.state, 5000, 'alice to see bob again');
    await waitFor(() => idsOf(cb).join() === 'alice' && [...cb.participants.values()][0]!.state, 5000, 'bob to see alice again');
    expect([...ca.participants.values()][0]!.state).toEqual({ name: 'Bob' });
    expect([...cb.participants.values()][0]!.state).toEqual({ name: 'Alice' });
    expect(cb.me.id).not.toBe(oldBob);
    expect(evA).toContainEqual(['carol', -1]);
    expect(evA.filter(([who]) => who === 'carol')).toEqual([['carol', -1]]);
    expect(states).toEqual(['reconnecting', 'open']);
    await waitFor(() => dms.includes('queued while down'));
    // The server holds the restored states: a newcomer gets both.
    const dave = client(await s2.token('dave', 'web'));
    const cd = dave.join<object, { name: string }>('room', { presence: true });
    await cd.ready;
    await waitFor(() => [...cd.participants.values()].filter((p) => p.state).length === 2);
    expect(s2.server.stats()).toMatchObject({ connections: 4, channels: 1 });
  });

  it('a client that was closed with close() and connect()ed again rejoins and drops stale participants', async () => {
    const s = await start();
    const alice = client(await s.token('alice', 'web'));
    const bob = client(await s.token('bob', 'web'));
    await Promise.all([open(alice), open(bob)]);
    const ca = alice.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    await waitFor(() => ca.participants.size === 1);
    alice.close();
    expect(alice.state).toBe('closed');
    bob.close();
    alice.connect();
    await open(alice);
    await ca.ready;
    expect(ca.status).toBe('joined');
    expect(ca.participants.size).toBe(0); // Bob left meanwhile
  });
});

describe('many channels', () => {
  it('100 presence channels with state: the rejoin after a restart stays under the rate limit, every state comes back', { timeout: 30_000 }, async () => {
    const s1 = await start();
    const { port, secret } = s1;
    const alice = client(await s1.token('alice', 'web'));
    const errors: SignalError[] = [];
    alice.on('error', (e) => errors.push(e));
    await open(alice);
    const chans = Array.from({ length: 100 }, (_, i) => alice.join<object, { i: number }>(`c${i}`, { presence: true }));
    chans.forEach((c, i) => c.me.updateState({ i }));
    for (let n = 0; n < 100; n++) alice.send({ to: 'nobody', n });
    await Promise.all(chans.map((c) => c.ready));
    await stop(s1);
    const s2 = await start({ port, secret });
    await open(alice);
    await Promise.all(chans.map((c) => c.ready));
    const bob = client(await s2.token('bob', 'web'));
    await open(bob);
    const seen = Array.from({ length: 100 }, (_, i) => bob.join<object, { i: number }>(`c${i}`, { presence: true }));
    await Promise.all(seen.map((c) => c.ready));
    await waitFor(() => seen.every((c) => [...c.participants.values()][0]?.state !== undefined), 10_000, 'every state');
    seen.forEach((c, i) => expect([...c.participants.values()][0]!.state).toEqual({ i }));
    expect(errors).toEqual([]);
  });
});

describe('the token path', () => {
  it('a refused token without getToken: closed, SIGNAL_ERR_UNAUTHORIZED (-32001), no retry loop', async () => {
    const s = await start();
    const other = await start();
    const sig = client(await other.token('alice', 'web'), { url: `${s.url.replace('http', 'ws')}/signal/v1/pubsub` });
    const errors: SignalError[] = [];
    sig.on('error', (e) => errors.push(e));
    await waitFor(() => sig.state === 'closed' && errors.length > 0, 5000);
    expect(errors[0]).toBeInstanceOf(SignalError);
    expect(errors[0]).toMatchObject({ code: 'SIGNAL_ERR_UNAUTHORIZED', rpcCode: -32001 });
    await new Promise((r) => setTimeout(r, 300));
    expect(sig.state).toBe('closed');
    expect(s.server.stats().connections).toBe(0);
  });

  it('a refused token never counts as open: queued frames are reported with their payload, not flushed', async () => {
    const s = await start();
    const other = await start();
    const sig = client(await other.token('alice', 'web'), { url: `${s.url.replace('http', 'ws')}/signal/v1/pubsub` });
    const states: string[] = [];
    const errors: SignalError[] = [];
    sig.on('state', (st) => states.push(st));
    sig.on('error', (e) => errors.push(e));
    sig.send({ to: 'bob', text: 'queued' });
    expect(sig.queued).toBe(1);
    await waitFor(() => sig.state === 'closed', 5000);
    expect(states).not.toContain('open');
    const dropped = errors.find((e) => e.code === 'SIGNAL_ERR_CLOSED');
    expect(dropped?.payload).toEqual([{ to: 'bob', text: 'queued' }]);
  });

  it('an expired token without getToken is refused by the server (4401) and reported', async () => {
    const s = await start();
    const sig = client(await s.token('alice', 'web', { expiresIn: -30 }));
    const errors: SignalError[] = [];
    sig.on('error', (e) => errors.push(e));
    await waitFor(() => sig.state === 'closed' && errors.length > 0, 5000);
    expect(errors[0]!.code).toBe('SIGNAL_ERR_UNAUTHORIZED');
  });

  it('getToken after a 4401 (the secret rotated across a restart): fresh token, reconnect, rejoin', { timeout: 20_000 }, async () => {
    const s1 = await start({ secret: 'old-secret' });
    const port = s1.port;
    let s2: TestServer | undefined;
    let fetched = 0;
    const getToken = async (): Promise<string> => {
      fetched++;
      if (!s2) throw new Error('no new server yet');
      return s2.token('alice', 'web');
    };
    const alice = client(await s1.token('alice', 'web'), { getToken });
    await open(alice);
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    ca.me.updateState({ v: 1 });
    await stop(s1);
    await waitFor(() => alice.state === 'reconnecting');
    s2 = await start({ secret: 'new-secret', port });
    const bob = client(await s2.token('bob', 'web'));
    await open(bob);
    const cb = bob.join('room', { presence: true });
    await cb.ready;
    await open(alice, 8000);
    expect(fetched).toBeGreaterThanOrEqual(1);
    await ca.ready;
    await waitFor(() => cb.participants.size === 1 && [...cb.participants.values()][0]!.state, 5000, 'bob to see alice');
    expect([...cb.participants.values()][0]!.state).toEqual({ v: 1 });
  });

  it('getToken on expiry: the expired event fetches a fresh token, the next connect uses it', { timeout: 20_000 }, async () => {
    const seen: unknown[] = [];
    const s1 = await start({ authorize: (claims) => (seen.push(claims.gen), true) });
    let gen = 0;
    const getToken = async () => s1.token('alice', 'web', { claims: { gen: ++gen } });
    // exp 12 s ahead: `expired` fires ~2 s from now (10 s before exp).
    const alice = client(await s1.token('alice', 'web', { expiresIn: 12, claims: { gen: 0 } }), { getToken });
    await open(alice);
    alice.join('a');
    await waitFor(() => seen.length === 1);
    const firstJwt = alice.token.jwt;
    await waitFor(() => alice.token.jwt !== firstJwt, 5000, 'the token to be refreshed');
    expect(gen).toBe(1);
    expect(alice.state).toBe('open'); // refreshing does not drop the connection
    const { port, secret } = s1;
    await stop(s1);
    const s2 = await start({ port, secret, authorize: (claims) => (seen.push(claims.gen), true) });
    await open(alice);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([0, 1]);
    expect(s2.server.stats().connections).toBe(1);
  });

  it('an already expired token with getToken: fetched before the first connect', async () => {
    const s = await start();
    let calls = 0;
    const alice = client(await s.token('alice', 'web', { expiresIn: -5 }), {
      getToken: async () => {
        calls++;
        return new AccessToken(await s.token('alice', 'web'));
      },
    });
    await open(alice);
    expect(calls).toBe(1);
    expect(alice.token.isExpired()).toBe(false);
  });

  it('getToken failing: reported, retried with backoff, succeeds later', async () => {
    const s = await start({ secret: 'rotating' });
    const other = await start();
    let calls = 0;
    const errors: string[] = [];
    const alice = client(await other.token('alice', 'web'), {
      url: `${s.url.replace('http', 'ws')}/signal/v1/pubsub`,
      getToken: async () => {
        calls++;
        if (calls < 3) throw new Error(`token service down ${calls}`);
        return s.token('alice', 'web');
      },
    });
    alice.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    await open(alice, 8000);
    expect(calls).toBe(3);
    expect(errors.filter((e) => e.startsWith('SIGNAL_ERR_TOKEN'))).toHaveLength(2);
  });

  it('update(jwt) is used by the next connect', async () => {
    const seen: unknown[] = [];
    const s1 = await start({ authorize: (claims) => (seen.push(claims.v), true) });
    const token = new AccessToken(await s1.token('alice', 'web', { claims: { v: 'first' } }));
    const updated: unknown[] = [];
    token.on('updated', (t) => updated.push(t));
    const alice = client(token);
    await open(alice);
    alice.join('x');
    await waitFor(() => seen.length === 1);
    token.update(await s1.token('alice', 'web', { claims: { v: 'second' } }));
    expect(updated).toEqual([token]);
    expect(alice.state).toBe('open');
    const { port, secret } = s1;
    await stop(s1);
    await start({ port, secret, authorize: (claims) => (seen.push(claims.v), true) });
    await open(alice);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['first', 'second']);
  });
});
