/**
 * CallSession (what useCall renders) on a real server (ws, port 0) with real clients; only the RTCPeerConnection is
 * a fake (Node has none): invite, ringing on every device, first accept wins, decline / cancel / timeout / busy,
 * mutual calls, the peer leaving (peer-gone), and a signaling reconnect in the middle of a call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createCallSession, type CallSession, type CallOptions } from '../../src/calls/call-session.js';
import type { Payload, Signal, WebSocketConstructor } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { FakePC } from './fake-pc.js';

const servers: TestServer[] = [];
const sessions: CallSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.dispose();
  for (const s of servers.splice(0)) await s.close();
});

const base: CallOptions = { media: false, RTCPeerConnection: FakePC as unknown as typeof RTCPeerConnection };

/** A ws WebSocket whose sockets can be cut (the client sees a network drop and reconnects). */
function cuttable(): { WS: WebSocketConstructor; cut: () => void } {
  const live = new Set<WebSocket>();
  class Cuttable extends WebSocket {
    constructor(url: string) {
      super(url);
      live.add(this);
      this.on('close', () => live.delete(this));
    }
  }
  return { WS: Cuttable as unknown as WebSocketConstructor, cut: () => [...live].forEach((w) => w.terminate()) };
}

async function setup(names: string[], options: CallOptions = {}, cut?: ReturnType<typeof cuttable>) {
  const srv = await startTestServer();
  servers.push(srv);
  const out: { sig: Signal; call: CallSession; name: string }[] = [];
  for (const n of names) {
    const [identity, device] = n.split('/');
    const sig = (await srv.connect(identity!, device, cut && n === names[names.length - 1] ? { WebSocket: cut.WS } : {})) as Signal<Payload>;
    const call = createCallSession(sig, { ...base, ...options });
    sessions.push(call);
    out.push({ sig, call, name: n });
  }
  return out;
}
const st = (c: CallSession) => c.getSnapshot();

describe('CallSession over a real server (fake RTCPeerConnection)', () => {
  it('rings every device of the callee; the first accept wins, the other ends answered-elsewhere; the caller learns the endpoint; its other device learns nothing', async () => {
    const [alice, alice2, phone, tablet] = await setup(['alice/laptop', 'alice/phone', 'bob/phone', 'bob/tablet']);
    const seen2: string[] = [];
    alice2!.sig.on('message', (m) => seen2.push(String(m.type)));
    alice!.call.start('bob', { data: true });
    expect(st(alice!.call).status).toBe('outgoing');
    await waitFor(() => st(phone!.call).status === 'incoming' && st(tablet!.call).status === 'incoming', 5000, 'both devices ring');
    expect(st(phone!.call).peer?.address).toMatch(/^alice\/laptop\//);
    await waitFor(() => st(alice!.call).ringing.length === 2, 5000, 'caller told of 2 ringing devices');
    tablet!.call.accept();
    await waitFor(() => st(alice!.call).status === 'connected' && st(tablet!.call).status === 'connected', 5000, 'connected');
    expect(st(alice!.call).peer?.address).toMatch(/^bob\/tablet\//);
    expect(st(tablet!.call).dataChannel).not.toBeNull();
    await waitFor(() => st(phone!.call).status === 'ended', 5000, 'phone stops ringing');
    expect(st(phone!.call)).toMatchObject({ endedReason: 'answered-elsewhere', endedDetail: 'accepted', endedBy: st(alice!.call).peer?.address });
    expect(st(alice2!.call).status).toBe('idle');
    expect(seen2).toEqual([]);
    // Signals of the set-up: a handful of negotiation messages, far fewer than one per candidate.
    const s = st(alice!.call).stats;
    expect(s.negotiationSent).toBeGreaterThan(0);
    expect(s.negotiationSent).toBeLessThan(s.candidates + 1);
    // Hang up: the other end ends hung-up, and both leave the call channel.
    alice!.call.hangUp();
    expect(st(alice!.call)).toMatchObject({ status: 'ended', endedReason: 'hung-up', pc: null });
    await waitFor(() => st(tablet!.call).status === 'ended', 5000, 'callee told');
    expect(st(tablet!.call).endedReason).toBe('hung-up');
    expect(FakePC.all.filter((p) => !p.closed).length).toBe(0);
  });

  it('decline, cancel, ring timeout and busy each end both sides with their reason', async () => {
    const [alice, bob, carol] = await setup(['alice/web', 'bob/web', 'carol/web'], { ringTimeoutMs: 400 });
    // decline
    alice!.call.start('bob');
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    bob!.call.decline();
    await waitFor(() => st(alice!.call).status === 'ended', 5000, 'declined');
    expect(st(alice!.call).endedReason).toBe('declined');
    expect(st(alice!.call).endedBy).toMatch(/^bob\/web\//); // the caller learns which endpoint declined
    expect(st(bob!.call).endedReason).toBe('declined');
    // cancel
    alice!.call.start('bob');
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring 2');
    alice!.call.hangUp();
    expect(st(alice!.call).endedReason).toBe('cancelled');
    await waitFor(() => st(bob!.call).status === 'ended', 5000, 'cancelled');
    expect(st(bob!.call).endedReason).toBe('cancelled');
    // timeout (nobody answers within ringTimeoutMs)
    alice!.call.start('bob');
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring 3');
    await waitFor(() => st(alice!.call).status === 'ended', 5000, 'timeout');
    expect(st(alice!.call).endedReason).toBe('timeout');
    await waitFor(() => st(bob!.call).status === 'ended', 5000, 'callee timeout');
    expect(st(bob!.call).endedReason).toBe('timeout');
    // busy: bob is ringing for alice; carol's call is answered busy; bob's call goes on
    alice!.call.start('bob');
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring 4');
    carol!.call.start('bob');
    await waitFor(() => st(carol!.call).status === 'ended', 5000, 'busy');
    expect(st(carol!.call).endedReason).toBe('busy');
    expect(st(bob!.call)).toMatchObject({ status: 'incoming', id: st(alice!.call).id });
    expect(() => alice!.call.start('carol')).toThrow(/in progress/);
  });

  it('calling the one whose call is ringing here accepts it', async () => {
    const [alice, bob] = await setup(['alice/web', 'bob/web']);
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    bob!.call.start('alice', { data: true });
    await waitFor(() => st(alice!.call).status === 'connected' && st(bob!.call).status === 'connected', 5000, 'connected');
    expect(st(bob!.call).id).toBe(st(alice!.call).id);
    expect(st(bob!.call).direction).toBe('incoming');
  });

  it('mutual calls at the same moment end in exactly one call', async () => {
    for (let round = 0; round < 3; round++) {
      const [alice, bob] = await setup(['alice/web', 'bob/web']);
      alice!.call.start('bob', { data: true });
      bob!.call.start('alice', { data: true });
      await waitFor(() => st(alice!.call).status === 'connected' && st(bob!.call).status === 'connected', 5000, `round ${round}: connected`);
      expect(st(alice!.call).id).toBe(st(bob!.call).id);
      await sleep(100);
      expect(st(alice!.call).status).toBe('connected');
      expect(st(bob!.call).status).toBe('connected');
      alice!.call.hangUp();
      await waitFor(() => st(bob!.call).status === 'ended', 5000, 'hung up');
    }
  });

  it('the peer vanishing ends the call with peer-gone (after peerGoneMs, once media stopped)', async () => {
    const [alice, bob] = await setup(['alice/web', 'bob/web'], { peerGoneMs: 300 });
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    bob!.call.accept();
    await waitFor(() => st(alice!.call).status === 'connected', 5000, 'connected');
    const pc = st(alice!.call).pc as unknown as FakePC;
    bob!.sig.close();
    await sleep(800);
    expect(st(alice!.call).status).toBe('connected'); // media still flows: not gone yet
    pc.setIce('disconnected');
    await waitFor(() => st(alice!.call).status === 'ended', 5000, 'peer-gone');
    expect(st(alice!.call).endedReason).toBe('peer-gone');
  });

  it('a ringing callee whose caller vanished stops ringing with peer-gone (not at the ring timeout)', async () => {
    const [alice, bob] = await setup(['alice/web', 'bob/web'], { peerGoneMs: 300 });
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    await sleep(200); // bob has joined the call channel and sees alice there
    expect(st(bob!.call).status).toBe('incoming');
    alice!.sig.close(); // alice's endpoint goes away without a cancel
    await waitFor(() => st(bob!.call).status === 'ended', 5000, 'ringing ended');
    expect(st(bob!.call).endedReason).toBe('peer-gone');
  });

  it('a caller whose signaling reconnects while ringing: the callee keeps ringing and its accept reaches the new endpoint', async () => {
    const cut = cuttable();
    const [bob, alice] = await setup(['bob/web', 'alice/web'], { peerGoneMs: 5000 }, cut);
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    await sleep(200);
    const before = st(bob!.call).peer!.address!;
    cut.cut();
    await waitFor(() => st(bob!.call).peer!.address !== before, 10_000, 'bob learns alice’s new endpoint');
    expect(st(bob!.call).status).toBe('incoming');
    bob!.call.accept();
    await waitFor(() => st(alice!.call).status === 'connected' && st(bob!.call).status === 'connected', 5000, 'connected');
  });

  it('a signaling drop mid-call: the peer follows the new endpoint and the call goes on', async () => {
    const cut = cuttable();
    const [alice, bob] = await setup(['alice/web', 'bob/web'], { peerGoneMs: 5000 }, cut);
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    bob!.call.accept();
    await waitFor(() => st(alice!.call).status === 'connected' && st(bob!.call).status === 'connected', 5000, 'connected');
    const before = st(alice!.call).peer!.address!;
    cut.cut();
    await waitFor(() => st(alice!.call).peer!.address !== before, 10_000, 'alice learns bob’s new endpoint');
    expect(st(alice!.call).peer!.address).toMatch(/^bob\/web\//);
    // Renegotiation after the drop reaches bob at the new endpoint (an ICE restart from alice).
    const bobPc = st(bob!.call).pc as unknown as FakePC;
    const answers = bobPc.answers;
    (st(alice!.call).pc as unknown as FakePC).restartIce();
    await waitFor(() => bobPc.answers === answers + 1, 5000, 'restart answered by bob');
    await sleep(300);
    expect(st(alice!.call).status).toBe('connected');
    expect(st(bob!.call).status).toBe('connected');
  });

  it('getIceServers is asked per call and its servers reach the RTCPeerConnection; its failure ends the call failed', async () => {
    let asked = 0;
    const turn = [{ urls: 'turn:turn.example.org', username: 'u', credential: 'c' }];
    const [alice, bob] = await setup(['alice/web', 'bob/web'], { getIceServers: async () => (asked++, turn) });
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring');
    bob!.call.accept();
    await waitFor(() => st(alice!.call).status === 'connected', 5000, 'connected');
    expect(asked).toBe(2);
    expect((st(alice!.call).pc as unknown as FakePC).config).toEqual({ iceServers: turn });
    alice!.call.hangUp();
    bob!.call.options = { ...bob!.call.options, getIceServers: () => Promise.reject(new Error('no TURN today')) };
    await waitFor(() => st(bob!.call).status === 'ended', 5000, 'hung up');
    alice!.call.start('bob', { data: true });
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'ring 2');
    bob!.call.accept();
    await waitFor(() => st(bob!.call).status === 'ended', 5000, 'failed');
    expect(st(bob!.call)).toMatchObject({ endedReason: 'failed', endedDetail: 'getIceServers: no TURN today' });
  });

  it('busy: false leaves a second call ringing on my other devices; media that cannot be had ends the call failed', async () => {
    const [alice, bob, bob2, carol] = await setup(['alice/web', 'bob/web', 'bob/tab', 'carol/web'], { busy: false });
    alice!.call.start('bob/web');
    await waitFor(() => st(bob!.call).status === 'incoming', 5000, 'bob/web rings');
    carol!.call.start('bob');
    await waitFor(() => st(bob2!.call).status === 'incoming' && st(bob2!.call).peer?.identity === 'carol', 5000, 'bob/tab rings for carol');
    await sleep(100);
    expect(st(carol!.call).status).toBe('outgoing'); // no busy answer from bob/web
    expect(st(bob!.call).peer?.identity).toBe('alice');
    carol!.call.hangUp();
    alice!.call.hangUp();
    await waitFor(() => st(bob!.call).status === 'ended', 5000, 'cancelled');
    alice!.call.reset();
    alice!.call.start('bob/web', { media: () => Promise.reject(new Error('camera denied')) });
    await waitFor(() => st(alice!.call).status === 'ended', 5000, 'failed');
    expect(st(alice!.call)).toMatchObject({ endedReason: 'failed', endedDetail: 'media: camera denied' });
    await waitFor(() => st(bob!.call).status === 'ended' && st(bob!.call).endedReason === 'cancelled' && st(bob!.call).id === st(alice!.call).id, 5000, 'callee told');
  });
});
