/**
 * Presence with real Signal clients: join / join_back / leave with and without presence, state
 * replay to late joiners, op 0 on state change, abrupt disconnect, and a vanished peer (no close
 * frame, no FIN) leaving everyone's presence within 15 s on the default ping settings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel, Participant, ParticipantOp } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { addressOf, RawPool } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';

let srv: TestServer;
const pool = new RawPool();
afterEach(async () => {
  pool.closeAll();
  await srv?.close();
});

type Ev = [string, ParticipantOp];
function track(ch: Channel<object, unknown>): Ev[] {
  const evs: Ev[] = [];
  ch.on('participant', (p: Participant<unknown, object>, op) => evs.push([p.identity, op]));
  return evs;
}
const identities = (ch: Channel<object, unknown>) => [...ch.participants.values()].map((p) => p.identity).sort();

describe('presence', () => {
  it('join, join_back, state (op 0 + state event), leave', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'web');
    const ca = alice.join<{ text: string }, { name: string }>('room', { presence: true });
    const evA = track(ca);
    await ca.ready;
    expect(ca.status).toBe('joined');
    expect(ca.me.id).toMatch(addressOf('alice/web'));
    expect(ca.participants.size).toBe(0);

    const cb = bob.join<{ text: string }, { name: string }>('room', { presence: true });
    const evB = track(cb);
    await cb.ready;
    // join_back is delivered before the join reply, so the roster is complete when ready resolves.
    expect(identities(cb)).toEqual(['alice']);
    expect(evB).toEqual([['alice', 1]]);
    await waitFor(() => ca.participants.size === 1);
    expect(evA).toEqual([['bob', 1]]);
    const bobAtAlice = ca.participants.get(cb.me.id!)!;
    expect(bobAtAlice.id).toBe(cb.me.id);
    expect(bobAtAlice.route).toBe(cb.me.id!.split('/')[2]);

    const states: unknown[] = [];
    bobAtAlice.on('state', (s, prev) => states.push([s, prev]));
    cb.me.updateState({ name: 'Bob' });
    await waitFor(() => states.length === 1);
    expect(states[0]).toEqual([{ name: 'Bob' }, undefined]);
    expect(evA).toEqual([['bob', 1], ['bob', 0]]);
    cb.me.updateState({ name: 'Robert' });
    await waitFor(() => states.length === 2);
    expect(states[1]).toEqual([{ name: 'Robert' }, { name: 'Bob' }]);
    expect(bobAtAlice.state).toEqual({ name: 'Robert' });

    // State updates are not channel messages.
    const msgs: unknown[] = [];
    ca.on('message', (m) => msgs.push(m));
    cb.publish({ text: 'hi' });
    await waitFor(() => msgs.length === 1);
    expect(msgs[0]).toEqual({ id: 'room', text: 'hi', from: cb.me.id });

    cb.leave();
    expect(cb.status).toBe('left');
    expect(cb.participants.size).toBe(0);
    expect(evB).toEqual([['alice', 1], ['alice', -1]]);
    await waitFor(() => ca.participants.size === 0);
    expect(evA).toEqual([['bob', 1], ['bob', 0], ['bob', 0], ['bob', -1]]);
    expect(bob.channels.has('room')).toBe(false);
    // Joining again gives a fresh channel.
    const again = bob.join('room', { presence: true });
    expect(again).not.toBe(cb);
    await again.ready;
    expect(identities(again)).toEqual(['alice']);
  });

  it('without presence: no participants either way, messages still flow', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'web');
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    ca.me.updateState({ s: 1 });
    const cb = bob.join('room');
    expect(bob.join('room')).toBe(cb); // same Channel when already joined
    await cb.ready;
    const got: unknown[] = [];
    cb.on('message', (m) => got.push(m));
    ca.publish({ text: 'x' });
    await waitFor(() => got.length === 1);
    expect(cb.participants.size).toBe(0);
    expect(ca.participants.size).toBe(0);
    const atA: unknown[] = [];
    ca.on('message', (m, p) => atA.push([m, p]));
    cb.publish({ text: 'y' });
    await waitFor(() => atA.length === 1);
    expect(atA[0]).toEqual([{ id: 'room', text: 'y', from: expect.stringMatching(addressOf('bob/web')) }, undefined]);
  });

  it('a state from a member without presence makes no participant (it would never leave)', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    const evs = track(ca);
    const raw = await pool.connect(srv.url, await srv.token('lurker', 'x'));
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'room' }, id: 1 });
    await raw.next();
    raw.notify('signal.publish', { id: 'room', state: { hidden: true } });
    raw.notify('signal.send', { to: ca.me.id, id: 'room', state: { p2p: true } });
    raw.notify('signal.publish', { id: 'room', text: 'visible' });
    const msgs: unknown[] = [];
    ca.on('message', (m, p) => msgs.push([m.text, p]));
    await waitFor(() => msgs.length === 1);
    expect(msgs).toEqual([['visible', undefined]]);
    expect(ca.participants.size).toBe(0);
    expect(evs).toEqual([]);
  });

  it('the same state twice (server replay + an old SDK peer-to-peer copy) fires no second update', async () => {
    srv = await startTestServer();
    const raw = await pool.connect(srv.url, await srv.token('old', 'sdk'));
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true }, id: 1 });
    await raw.next();
    raw.notify('signal.publish', { id: 'room', state: { v: 1 } });
    const alice = await srv.connect('alice', 'web');
    const ca = alice.join('room', { presence: true });
    const evs = track(ca);
    await ca.ready;
    const join = await raw.next();
    expect(join).toMatchObject({ method: 'signal.join', params: { id: 'room', from: ca.me.id } });
    raw.notify('signal.send', { to: ca.me.id, id: 'room', state: { v: 1 } });
    raw.notify('signal.send', { to: ca.me.id, id: 'room', state: { v: 2 } });
    await waitFor(() => evs.length === 3);
    expect(evs).toEqual([['old', 1], ['old', 0], ['old', 0]]);
    expect([...ca.participants.values()][0]!.state).toEqual({ v: 2 });
  });

  it('state replay: a late joiner sees every member state at once, replaced whole, last writer wins', async () => {
    srv = await startTestServer();
    const users = await Promise.all(['u1', 'u2', 'u3'].map((u) => srv.connect(u, 'd')));
    const chans = users.map((u) => u.join<object, Record<string, unknown>>('st', { presence: true }));
    await Promise.all(chans.map((c) => c.ready));
    chans[0]!.me.updateState({ a: 1, b: 2 });
    chans[0]!.me.updateState({ c: 3 }); // replaced whole
    chans[1]!.me.updateState({ who: 'u2' });
    await waitFor(() => [...chans[2]!.participants.values()].filter((p) => p.state).length === 2);
    const late = await srv.connect('late', 'd');
    const cl = late.join<object, Record<string, unknown>>('st', { presence: true });
    const stateEvents: unknown[] = [];
    cl.on('participant', (p, op) => stateEvents.push([p.identity, op, p.state]));
    await cl.ready;
    await waitFor(() => [...cl.participants.values()].filter((p) => p.state !== undefined).length === 2);
    const byIdentity = Object.fromEntries([...cl.participants.values()].map((p) => [p.identity, p.state]));
    expect(byIdentity).toEqual({ u1: { c: 3 }, u2: { who: 'u2' }, u3: undefined });
    expect(stateEvents).toEqual([
      ['u1', 1, undefined],
      ['u2', 1, undefined],
      ['u3', 1, undefined],
      ['u1', 0, { c: 3 }],
      ['u2', 0, { who: 'u2' }],
    ]);
    // The late joiner's own state reaches everyone.
    cl.me.updateState({ late: true });
    await waitFor(() => chans.every((c) => [...c.participants.values()].some((p) => p.identity === 'late' && p.state)));
  });

  it('terminate() of a socket removes the member from everyone at once', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'web');
    const ca = alice.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    const raw = await pool.connect(srv.url, await srv.token('ghost', 'x'));
    raw.notify('signal.join', { id: 'room', presence: true });
    await waitFor(() => ca.participants.size === 2 && cb.participants.size === 2);
    const evA = track(ca);
    const evB = track(cb);
    const t0 = Date.now();
    raw.terminate();
    await waitFor(() => ca.participants.size === 1 && cb.participants.size === 1, 3000, 'ghost to leave');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(evA).toEqual([['ghost', -1]]);
    expect(evB).toEqual([['ghost', -1]]);
    await waitFor(() => srv.server.stats().connections === 2);
  });

  it('a vanished peer (paused socket: no close frame, no FIN) leaves within 15 s on default ping settings', { timeout: 40_000 }, async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    const raw = await pool.connect(srv.url, await srv.token('sleeper', 'laptop'));
    raw.notify('signal.join', { id: 'room', presence: true });
    await waitFor(() => ca.participants.size === 1);
    const ev = track(ca);
    // Stop reading: the server's pings are never answered, nothing is sent, the TCP link stays up.
    const sock = (raw.ws as unknown as { _socket: { pause(): void } })._socket;
    sock.pause();
    const t0 = Date.now();
    await waitFor(() => ca.participants.size === 0, 25_000, 'the sleeper to leave');
    const elapsed = Date.now() - t0;
    expect(ev).toEqual([['sleeper', -1]]);
    expect(elapsed).toBeLessThanOrEqual(15_000);
    // The Signal client itself (answering pings) stayed.
    expect(alice.state).toBe('open');
    expect(srv.server.stats().connections).toBe(1);
  });

  it('an orderly close leaves at once; rejoining with other presence flag re-announces', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    const raw = await pool.connect(srv.url, await srv.token('bob', 'x'));
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true }, id: 1 });
    expect(await raw.next()).toStrictEqual({ jsonrpc: '2.0', method: 'signal.join_back', params: { id: 'room', from: ca.me.id } });
    expect(await raw.next()).toStrictEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        id: 'room',
        presence: true,
        members: 2,
        address: expect.stringMatching(addressOf('bob/x')),
        rate: { framesPerSecond: 50, burst: 200 },
      },
    });
    await waitFor(() => ca.participants.size === 1);
    // Same channel, presence off: Bob leaves the roster but stays a (silent) member.
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: false }, id: 2 });
    expect(await raw.next()).toMatchObject({ id: 2, result: { id: 'room', presence: false } });
    await waitFor(() => ca.participants.size === 0);
    ca.publish({ text: 'still hear me?' });
    expect(await raw.next()).toMatchObject({ method: 'signal.publish', params: { text: 'still hear me?' } });
    raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true }, id: 3 });
    await waitFor(() => ca.participants.size === 1);
    raw.ws.close(1000);
    await waitFor(() => ca.participants.size === 0, 2000);
  });
});
