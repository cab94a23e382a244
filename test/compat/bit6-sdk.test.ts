/**
 * Wire compatibility with the Bit6 JS SDK 2.0.0-beta.9: raw sockets send exactly the SDK's frames
 * (notifications without `id`, `_ping` keepalive, peer-to-peer state on join, state as publish) and
 * every frame they receive is asserted whole.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';
import { addressOf, RawPool, type RawClient } from './raw-client.js';

let srv: TestServer;
const pool = new RawPool();

beforeEach(async () => {
  srv = await startTestServer();
});
afterEach(async () => {
  pool.closeAll();
  await srv.close();
});

const connect = async (identity: string, device: string, path?: string): Promise<RawClient> =>
  pool.connect(srv.url, await srv.token(identity, device), path);

const note = (method: string, params: Record<string, unknown>) => ({ jsonrpc: '2.0', method, params });

/** Learn `c`'s endpoint address: it sends a DM to a probe identity connected for that. */
async function addressFor(c: RawClient, device: string): Promise<string> {
  const probe = await connect('probe', 'p');
  c.notify('signal.send', { to: 'probe', hello: 1 });
  const f = await probe.next();
  const from = (f.params as { from: string }).from;
  expect(from).toMatch(addressOf(device));
  probe.close();
  return from;
}

/** Every frame a raw client saw is a JSON-RPC notification with params, or `_pong`. */
function assertAllNotifications(...clients: RawClient[]): void {
  for (const c of clients) {
    for (const f of c.frames) {
      expect(f.binary).toBe(false);
      if (f.text === '_pong') continue;
      const j = f.json as Record<string, unknown>;
      expect(j.jsonrpc).toBe('2.0');
      expect(typeof j.method).toBe('string');
      expect(typeof j.params).toBe('object');
      expect(j.params).not.toBeNull();
      expect('id' in j).toBe(false);
      expect(j.method).not.toBe('signal.error');
    }
  }
}

describe('Bit6 SDK wire compatibility', () => {
  it('answers _ping with exactly _pong on both paths, as a text frame', async () => {
    for (const path of ['/signal/v1/pubsub', '/signal/pubsub']) {
      const a = await connect('alice', 'web', path);
      a.send('_ping');
      const f = await a.nextFrame();
      expect(f.text).toBe('_pong');
      expect(f.binary).toBe(false);
      a.send('_ping');
      a.send('_ping');
      expect((await a.nextFrame()).text).toBe('_pong');
      expect((await a.nextFrame()).text).toBe('_pong');
      expect(await a.drain()).toEqual([]);
    }
  });

  it('plain direct message: no id, from stamped by the server, never echoed', async () => {
    const alice = await connect('alice', 'web');
    const bob = await connect('bob', 'phone');
    const aliceAddr = await addressFor(alice, 'alice/web');
    alice.notify('signal.send', { to: 'bob', text: 'hi', n: [1, { x: true }] });
    const got = await bob.next();
    expect(got).toStrictEqual(note('signal.send', { to: 'bob', text: 'hi', n: [1, { x: true }], from: aliceAddr }));
    expect('id' in (got.params as object)).toBe(false);

    // A forged `from` is replaced by the sender's real address.
    alice.notify('signal.send', { to: 'bob', from: 'mallory/evil/r1', text: 'forged' });
    expect(await bob.next()).toStrictEqual(note('signal.send', { to: 'bob', from: aliceAddr, text: 'forged' }));

    // Replying to msg.from reaches the sender's very endpoint.
    bob.notify('signal.send', { to: aliceAddr, text: 'back' });
    const back = await alice.next();
    expect(back).toStrictEqual(note('signal.send', { to: aliceAddr, text: 'back', from: expect.stringMatching(addressOf('bob/phone')) }));
    expect(await alice.drain()).toEqual([]);
    expect(await bob.drain()).toEqual([]);
    assertAllNotifications(alice, bob);
  });

  it('presence: join, join_back, peer-to-peer state, publish state, replay, leave, exactly', async () => {
    const a = await connect('alice', 'web');
    const b = await connect('bob', 'phone');
    const c = await connect('carol', 'tab');
    const aAddr = await addressFor(a, 'alice/web');
    const bAddr = await addressFor(b, 'bob/phone');
    const cAddr = await addressFor(c, 'carol/tab');

    // A notification join gets no reply at all; the first member hears nothing.
    a.notify('signal.join', { id: 'room', presence: true });
    expect(await a.drain(200)).toEqual([]);

    b.notify('signal.join', { id: 'room', presence: true });
    expect(await b.next()).toStrictEqual(note('signal.join_back', { id: 'room', from: aAddr }));
    expect(await a.next()).toStrictEqual(note('signal.join', { id: 'room', from: bAddr }));

    // The old SDK sends its state to the newcomer itself.
    a.notify('signal.send', { to: bAddr, id: 'room', state: { name: 'Alice' } });
    expect(await b.next()).toStrictEqual(note('signal.send', { to: bAddr, id: 'room', state: { name: 'Alice' }, from: aAddr }));

    // A state update is a publish {id, state}: everyone else gets it, the sender does not.
    b.notify('signal.publish', { id: 'room', state: { name: 'Bob', v: 1 } });
    expect(await a.next()).toStrictEqual(note('signal.publish', { id: 'room', state: { name: 'Bob', v: 1 }, from: bAddr }));
    b.notify('signal.publish', { id: 'room', state: { name: 'Bob', v: 2 } });
    expect(await a.next()).toStrictEqual(note('signal.publish', { id: 'room', state: { name: 'Bob', v: 2 }, from: bAddr }));
    expect(await b.drain()).toEqual([]);

    // A late joiner: join_back for each member in join order, then the states the server holds
    // (only Bob published one; Alice's went peer to peer) as signal.send {from, to, id, state}.
    c.notify('signal.join', { id: 'room', presence: true });
    expect(await c.next()).toStrictEqual(note('signal.join_back', { id: 'room', from: aAddr }));
    expect(await c.next()).toStrictEqual(note('signal.join_back', { id: 'room', from: bAddr }));
    expect(await c.next()).toStrictEqual(note('signal.send', { id: 'room', from: bAddr, to: cAddr, state: { name: 'Bob', v: 2 } }));
    expect(await a.next()).toStrictEqual(note('signal.join', { id: 'room', from: cAddr }));
    expect(await b.next()).toStrictEqual(note('signal.join', { id: 'room', from: cAddr }));

    // A channel message reaches every member but its sender; a forged `from` is replaced.
    c.notify('signal.publish', { id: 'room', text: 'hello all', from: aAddr });
    expect(await a.next()).toStrictEqual(note('signal.publish', { id: 'room', text: 'hello all', from: cAddr }));
    expect(await b.next()).toStrictEqual(note('signal.publish', { id: 'room', text: 'hello all', from: cAddr }));

    // A direct message in the channel's context carries the id.
    c.notify('signal.send', { to: aAddr, id: 'room', type: 'offer', sdp: 'v=0' });
    expect(await a.next()).toStrictEqual(note('signal.send', { to: aAddr, id: 'room', type: 'offer', sdp: 'v=0', from: cAddr }));

    b.notify('signal.leave', { id: 'room' });
    expect(await a.next()).toStrictEqual(note('signal.leave', { id: 'room', from: bAddr }));
    expect(await c.next()).toStrictEqual(note('signal.leave', { id: 'room', from: bAddr }));

    // After leaving, Bob no longer hears the channel.
    a.notify('signal.publish', { id: 'room', text: 'after' });
    expect(await c.next()).toStrictEqual(note('signal.publish', { id: 'room', text: 'after', from: aAddr }));
    for (const x of [a, b, c]) expect(await x.drain()).toEqual([]);
    assertAllNotifications(a, b, c);
  });

  it('join without presence: silent, receives publishes, nobody hears it come or go', async () => {
    const a = await connect('alice', 'web');
    const d = await connect('dave', 'cli');
    const aAddr = await addressFor(a, 'alice/web');
    const dAddr = await addressFor(d, 'dave/cli');
    a.notify('signal.join', { id: 'room', presence: true });
    a.notify('signal.publish', { id: 'room', state: { s: 1 } });
    d.notify('signal.join', { id: 'room' });
    expect(await d.drain(200)).toEqual([]); // no join_back, no state replay without presence
    expect(await a.drain(50)).toEqual([]); // no join for a non-presence member

    a.notify('signal.publish', { id: 'room', text: 'x' });
    expect(await d.next()).toStrictEqual(note('signal.publish', { id: 'room', text: 'x', from: aAddr }));
    d.notify('signal.publish', { id: 'room', text: 'y' });
    expect(await a.next()).toStrictEqual(note('signal.publish', { id: 'room', text: 'y', from: dAddr }));

    // A presence member arriving later is announced to the silent member too, but not vice versa.
    const e = await connect('erin', 'web');
    const eAddr = await addressFor(e, 'erin/web');
    e.notify('signal.join', { id: 'room', presence: true });
    expect(await e.next()).toStrictEqual(note('signal.join_back', { id: 'room', from: aAddr }));
    expect(await e.next()).toStrictEqual(note('signal.send', { id: 'room', from: aAddr, to: eAddr, state: { s: 1 } }));
    expect(await a.next()).toStrictEqual(note('signal.join', { id: 'room', from: eAddr }));
    expect(await d.next()).toStrictEqual(note('signal.join', { id: 'room', from: eAddr }));

    d.notify('signal.leave', { id: 'room' });
    for (const x of [a, d, e]) expect(await x.drain()).toEqual([]);
    assertAllNotifications(a, d, e);
  });

  it('the /signal/pubsub path (aud already holding v1) speaks the same protocol', async () => {
    const a = await connect('alice', 'web', '/signal/pubsub');
    const b = await connect('bob', 'web', '/signal/v1/pubsub');
    const aAddr = await addressFor(a, 'alice/web');
    a.notify('signal.join', { id: 'c1', presence: true });
    await a.drain(100);
    b.notify('signal.join', { id: 'c1', presence: true });
    expect(await b.next()).toStrictEqual(note('signal.join_back', { id: 'c1', from: aAddr }));
    const j = await a.next();
    expect(j).toStrictEqual(note('signal.join', { id: 'c1', from: expect.stringMatching(addressOf('bob/web')) }));
    a.notify('signal.send', { to: 'bob', k: 'v' });
    expect(await b.next()).toStrictEqual(note('signal.send', { to: 'bob', k: 'v', from: aAddr }));
  });

  it('an unknown path is refused at the HTTP upgrade', async () => {
    const c = pool.add((await import('./raw-client.js')).rawSocket(srv.url, await srv.token('a', 'b'), '/nope'));
    await expect(c.opened).rejects.toThrow();
  });

  it('an in-channel direct message to someone not in the channel is not delivered', async () => {
    const a = await connect('alice', 'web');
    const b = await connect('bob', 'web');
    a.notify('signal.join', { id: 'room' });
    a.notify('signal.send', { to: 'bob', id: 'room', text: 'psst' });
    a.notify('signal.send', { to: 'bob', text: 'plain' });
    const f = await b.next();
    expect(f).toStrictEqual(note('signal.send', { to: 'bob', text: 'plain', from: expect.stringMatching(addressOf('alice/web')) }));
    expect(await b.drain()).toEqual([]);
  });

  it('an SDK client and our Signal client share a channel', async () => {
    const sdk = await connect('old', 'sdk');
    const oldAddr = await addressFor(sdk, 'old/sdk');
    sdk.notify('signal.join', { id: 'mix', presence: true });
    sdk.notify('signal.publish', { id: 'mix', state: { v: 'old' } });
    await sdk.drain(100);
    const sig = await srv.connect('new', 'web');
    const ch = sig.join<{ text: string }, { v: string }>('mix', { presence: true });
    await ch.ready;
    const me = ch.me.id!;
    // The SDK sees a join; our join request and its reply never reach it.
    expect(await sdk.next()).toStrictEqual(note('signal.join', { id: 'mix', from: me }));
    await waitFor(() => ch.participants.get(oldAddr)?.state);
    expect(ch.participants.get(oldAddr)!.state).toEqual({ v: 'old' });
    // The SDK sends its state peer to peer too (the duplicate is harmless).
    sdk.notify('signal.send', { to: me, id: 'mix', state: { v: 'old' } });
    ch.me.updateState({ v: 'new' });
    expect(await sdk.next()).toStrictEqual(note('signal.publish', { id: 'mix', state: { v: 'new' }, from: me }));
    const msgs: unknown[] = [];
    ch.participants.get(oldAddr)!.on('message', (m) => msgs.push(m));
    sdk.notify('signal.publish', { id: 'mix', text: 'from the sdk' });
    await waitFor(() => msgs.length === 1);
    expect(msgs[0]).toEqual({ id: 'mix', text: 'from the sdk', from: oldAddr });
    ch.publish({ text: 'from us' });
    expect(await sdk.next()).toStrictEqual(note('signal.publish', { id: 'mix', text: 'from us', from: me }));
    sig.send({ to: oldAddr, text: 'dm' });
    expect(await sdk.next()).toStrictEqual(note('signal.send', { to: oldAddr, text: 'dm', from: me }));
    ch.leave();
    expect(await sdk.next()).toStrictEqual(note('signal.leave', { id: 'mix', from: me }));
    expect(await sdk.drain()).toEqual([]);
    assertAllNotifications(sdk);
  });

  it('two tabs of one device: a publish reaches the other tab, never the sender', async () => {
    const t1 = await connect('alice', 'web');
    const t2 = await connect('alice', 'web');
    const t1Addr = await addressFor(t1, 'alice/web');
    t2.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'tabs' }, id: 1 });
    expect(await t2.next()).toMatchObject({ id: 1, result: { id: 'tabs' } });
    t1.notify('signal.join', { id: 'tabs' });
    t1.notify('signal.publish', { id: 'tabs', text: 'sync' });
    expect(await t2.next()).toStrictEqual(note('signal.publish', { id: 'tabs', text: 'sync', from: t1Addr }));
    expect(await t1.drain()).toEqual([]);
  });

  it('server API: a publish to a channel an SDK client is in, and a send to it, arrive as plain SDK frames from $server', async () => {
    const sdk = await connect('old', 'sdk');
    const peer = await connect('peer', 'web');
    const sdkAddr = await addressFor(sdk, 'old/sdk');
    sdk.notify('signal.join', { id: 'news', presence: true });
    peer.notify('signal.join', { id: 'news', presence: true });
    expect(await sdk.next()).toStrictEqual(note('signal.join', { id: 'news', from: expect.stringMatching(addressOf('peer/web')) }));
    await peer.next(); // join_back of the SDK client
    // A channel message: `id` and `from` set, no participant join ever names $server (the SDK never creates one).
    await srv.server.publish('news', { text: 'system notice', level: 2 });
    expect(await sdk.next()).toStrictEqual(note('signal.publish', { id: 'news', text: 'system notice', level: 2, from: '$server' }));
    expect(await peer.next()).toStrictEqual(note('signal.publish', { id: 'news', text: 'system notice', level: 2, from: '$server' }));
    // A direct message: no `id` (the SDK would route it to a channel), `to` as the server was asked.
    await srv.server.send('old', { type: 'ring', call: 'c1' });
    expect(await sdk.next()).toStrictEqual(note('signal.send', { type: 'ring', call: 'c1', from: '$server', to: 'old' }));
    await srv.server.send(sdkAddr, { type: 'exact' });
    expect(await sdk.next()).toStrictEqual(note('signal.send', { type: 'exact', from: '$server', to: sdkAddr }));
    // Removed from the channel: an extension notification (an SDK ignores the method), peers see a plain leave,
    // and the SDK client carries on (it still talks to everyone else).
    await srv.server.unsubscribe('old', 'news', { reason: 'moderated' });
    expect(await sdk.next()).toStrictEqual(note('signal.unsubscribed', { id: 'news', from: '$server', reason: 'moderated' }));
    expect(await peer.next()).toStrictEqual(note('signal.leave', { id: 'news', from: sdkAddr }));
    peer.notify('signal.publish', { id: 'news', text: 'not for old' });
    sdk.notify('signal.send', { to: 'peer', text: 'still here' });
    expect(await peer.next()).toStrictEqual(note('signal.send', { to: 'peer', text: 'still here', from: sdkAddr }));
    for (const x of [sdk, peer]) expect(await x.drain()).toEqual([]);
    assertAllNotifications(sdk, peer);
  });
});
