/**
 * The three address forms with several endpoints per user: 2 devices, 2 tabs on one device.
 * "Not received" is proved with a sentinel sent afterwards to everyone: per-connection order is
 * FIFO, so an endpoint that got the sentinel but not the message never will.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Signal, SignalMessage } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await startTestServer();
});
afterEach(async () => srv.close());

interface Endpoint {
  name: string;
  sig: Signal;
  got: SignalMessage[];
}

async function endpoint(name: string, identity: string, device: string): Promise<Endpoint> {
  const sig = await srv.connect(identity, device);
  const got: SignalMessage[] = [];
  sig.on('message', (m) => got.push(m));
  return { name, sig, got };
}

/** Send a sentinel from `from` to every endpoint of `identity`, wait until all have it, return what each got before it. */
async function settle(from: Signal, identity: string, eps: Endpoint[]): Promise<Record<string, unknown[]>> {
  const tag = Math.random().toString(36).slice(2);
  from.send({ to: identity, sentinel: tag });
  await waitFor(() => eps.every((e) => e.got.some((m) => m.sentinel === tag)), 3000, 'sentinel');
  const out: Record<string, unknown[]> = {};
  for (const e of eps) {
    const i = e.got.findIndex((m) => m.sentinel === tag);
    out[e.name] = e.got.slice(0, i).map((m) => m.text);
    e.got.length = 0;
  }
  return out;
}

describe('addresses', () => {
  it('identity, identity/device and identity/device/route reach exactly the matching endpoints', async () => {
    const web = await endpoint('web', 'alice', 'web');
    const tab1 = await endpoint('tab1', 'alice', 'phone');
    const tab2 = await endpoint('tab2', 'alice', 'phone');
    const other = await endpoint('other', 'alicia', 'web'); // a prefix-alike identity is someone else
    const bob = await srv.connect('bob', 'laptop');
    const alice = [web, tab1, tab2, other];

    bob.send({ to: 'alice', text: 'all' });
    expect(await settle(bob, 'alice', alice.slice(0, 3))).toEqual({ web: ['all'], tab1: ['all'], tab2: ['all'] });

    bob.send({ to: 'alice/phone', text: 'phones' });
    expect(await settle(bob, 'alice', alice.slice(0, 3))).toEqual({ web: [], tab1: ['phones'], tab2: ['phones'] });

    bob.send({ to: 'alice/web', text: 'web only' });
    expect(await settle(bob, 'alice', alice.slice(0, 3))).toEqual({ web: ['web only'], tab1: [], tab2: [] });

    // Learn tab2's full address from a message it sends, then reach exactly it.
    const bobGot: SignalMessage[] = [];
    bob.on('message', (m) => bobGot.push(m));
    tab2.sig.send({ to: 'bob', text: 'from tab2' });
    const m = await waitFor(() => bobGot.find((x) => x.text === 'from tab2'));
    expect(m.from).toMatch(/^alice\/phone\/[a-z0-9]+$/);
    expect(m.to).toBe('bob');
    expect('id' in m).toBe(false);
    bob.send({ to: m.from, text: 'reply' });
    expect(await settle(bob, 'alice', alice.slice(0, 3))).toEqual({ web: [], tab1: [], tab2: ['reply'] });
    expect(other.got).toEqual([]);

    // Nobody at an address: silently nothing (no error), and the sender stays fine.
    const errors: unknown[] = [];
    bob.on('error', (e) => errors.push(e));
    bob.send({ to: 'nobody', text: 'void' });
    bob.send({ to: 'alice/tablet', text: 'no such device' });
    bob.send({ to: 'alice/phone/zzzz', text: 'no such route' });
    bob.send({ to: `alice/web/${m.from.split('/')[2]}`, text: 'route of another device' });
    expect(await settle(bob, 'alice', alice.slice(0, 3))).toEqual({ web: [], tab1: [], tab2: [] });
    expect(errors).toEqual([]);
  });

  it('a user messaging its own identity reaches its other endpoints, never itself', async () => {
    const web = await endpoint('web', 'alice', 'web');
    const tab1 = await endpoint('tab1', 'alice', 'phone');
    const bob = await srv.connect('bob', 'x');
    web.sig.send({ to: 'alice', text: 'sync' });
    expect(await settle(bob, 'alice', [web, tab1])).toEqual({ web: [], tab1: ['sync'] });
  });

  it('replying to msg.from inside a channel reaches that one endpoint, with the channel id', async () => {
    const tab1 = await srv.connect('alice', 'phone');
    const tab2 = await srv.connect('alice', 'phone');
    const bob = await srv.connect('bob', 'x');
    const c1 = tab1.join('call', { presence: true });
    const c2 = tab2.join('call', { presence: true });
    const cb = bob.join('call', { presence: true });
    await Promise.all([c1.ready, c2.ready, cb.ready]);
    await waitFor(() => cb.participants.size === 2 && c1.participants.size === 2 && c2.participants.size === 2);
    const got1: SignalMessage[] = [];
    const got2: SignalMessage[] = [];
    c1.on('message', (m) => got1.push(m));
    c2.on('message', (m) => got2.push(m));
    const atBob: SignalMessage[] = [];
    cb.on('message', (m) => atBob.push(m));
    c1.participants.get(cb.me.id!)!.send({ type: 'offer' });
    const offer = await waitFor(() => atBob[0]);
    expect(offer).toEqual({ type: 'offer', to: cb.me.id, id: 'call', from: c1.me.id });
    cb.participants.get(offer.from)!.send({ type: 'answer' });
    await waitFor(() => got1.length === 1);
    expect(got1[0]).toEqual({ type: 'answer', to: c1.me.id, id: 'call', from: cb.me.id });
    cb.publish({ type: 'bye' });
    await waitFor(() => got2.length === 1 && got1.length === 2);
    expect(got2.map((m) => m.type)).toEqual(['bye']);
  });
});
