import type { Channel, Payload, SignalMessage } from '../client/index.js';
import type { CallEndReason, CallEvent, CallMachine } from './call-state.js';
import type { CallOptions } from './call-types.js';
import { createNegotiator, type Negotiator } from './negotiation.js';
import { deviceOf, isCallSignal, type CallSignal, type NegotiationSignal } from './signals.js';

/** The live parts of a connecting or connected call. */
export interface PeerPart {
  pc: RTCPeerConnection;
  neg: Negotiator;
  dc: RTCDataChannel | null;
  remote: MediaStream | null;
  close(): void;
}

/** What the peer side needs from its call session. */
export interface PeerContext {
  state(): CallMachine;
  live(): boolean;
  channel(): Channel<Payload, unknown> | null;
  dispatch(e: CallEvent): void;
  end(reason: CallEndReason, detail?: string, by?: string): void;
  timer(name: string, ms: number, fn: () => void): void;
  clear(name: string): void;
  changed(): void;
  options(): CallOptions;
  media(): Promise<MediaStream | null> | null;
  attach(p: PeerPart): void;
  peer(): PeerPart | null;
}

/** The peer side of a call session: negotiation in the call's channel, and the peer's presence there. */
export interface PeerHost {
  connect(polite: boolean): Promise<void>;
  onChannel(msg: SignalMessage<Payload>): void;
  onParticipant(id: string, op: number): void;
}

/**
 * The peer connection of a call: created once accepted (the callee is polite and waits for the caller's offer),
 * negotiated in the call's channel to the peer's exact endpoint, which follows the peer's reconnects (its
 * `identity/device` joining again with a new route); `peer-gone` when that device left the channel for
 * `peerGoneMs` while media is not flowing.
 */
export function connectPeer(c: PeerContext): PeerHost {
  let early: NegotiationSignal[] = [];
  let goneWaiting = false;
  const samePeer = (addr: string): boolean => {
    const a = c.state().peer?.address;
    return !!a && deviceOf(addr) === deviceOf(a);
  };
  const goneCheck = (fired: boolean): void => {
    if (fired) goneWaiting = true;
    if (goneWaiting && c.live() && c.peer()?.pc.connectionState !== 'connected') c.end('peer-gone');
  };

  return {
    async connect(polite) {
      const m = c.state();
      const o = c.options();
      early = early.filter((s) => s.call === m.id);
      goneWaiting = false;
      let iceServers = o.iceServers;
      try {
        if (o.getIceServers) iceServers = await o.getIceServers();
      } catch (e) {
        return c.end('failed', `getIceServers: ${(e as Error)?.message ?? e}`);
      }
      const stream = await c.media();
      if (c.state().id !== m.id || !c.live() || c.peer()) return;
      const PC = o.RTCPeerConnection ?? globalThis.RTCPeerConnection;
      const pc = new PC(iceServers ? { iceServers } : {});
      const neg = createNegotiator(pc, {
        polite,
        waitForOffer: polite,
        send: (s) => {
          const addr = c.state().peer?.address;
          if (addr) c.channel()?.sendTo(addr, { ...s, call: m.id });
        },
        onFailed: () => c.end('failed', 'ICE failed'),
      });
      const part: PeerPart = {
        pc,
        neg,
        dc: null,
        remote: null,
        close() {
          neg.close();
          pc.ontrack = pc.onconnectionstatechange = null;
          pc.close();
          early = [];
        },
      };
      c.attach(part);
      pc.ontrack = (e) => {
        const r = (part.remote = e.streams[0] ?? part.remote ?? new MediaStream());
        if (!r.getTracks().includes(e.track)) r.addTrack(e.track);
        c.changed();
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'connected') c.dispatch({ type: 'connected' });
        goneCheck(false);
      };
      c.timer('connect', o.connectTimeoutMs ?? 30_000, () => c.state().status === 'connecting' && c.end('failed', 'no connection'));
      // Everything to negotiate at once, so that one offer carries it.
      if (m.data) part.dc = pc.createDataChannel('data', { negotiated: true, id: 0 });
      for (const t of stream?.getTracks() ?? []) pc.addTrack(t, stream!);
      // No media and no data channel on the offering end: ask for the peer's media, so there is something to negotiate.
      if (!polite && !stream && !part.dc) {
        if (m.media.audio) pc.addTransceiver('audio', { direction: 'recvonly' });
        if (m.media.video) pc.addTransceiver('video', { direction: 'recvonly' });
      }
      c.changed();
      for (const s of early.splice(0)) void neg.receive(s);
    },

    /** A direct message in the call's channel: negotiation or hang-up, from the peer (any route of its device). */
    onChannel(raw) {
      if (!isCallSignal(raw)) return;
      const msg = raw as CallSignal & { from: string };
      const m = c.state();
      if (msg.call !== m.id || !c.live() || !samePeer(msg.from)) return;
      if (msg.from !== m.peer!.address) c.dispatch({ type: 'peer-moved', address: msg.from });
      if (msg.type === 'call-hangup') c.end('hung-up', undefined, msg.from);
      else if (msg.type === 'call-sdp' || msg.type === 'call-ice') {
        const p = c.peer();
        if (p) void p.neg.receive(msg);
        else if (early.length < 64) early.push(msg);
      }
    },

    /** The call channel's presence: the peer's device reconnecting (a new route), or gone. */
    onParticipant(id, op) {
      const m = c.state();
      if ((m.status !== 'connecting' && m.status !== 'connected') || !samePeer(id)) return;
      if (op === 1) {
        c.clear('gone');
        goneWaiting = false;
        if (id !== m.peer!.address) {
          c.dispatch({ type: 'peer-moved', address: id });
          const p = c.peer();
          if (p && p.pc.connectionState !== 'connected') p.neg.restartIce();
        }
      } else if (op === -1 && ![...(c.channel()?.participants.keys() ?? [])].some(samePeer)) {
        c.timer('gone', c.options().peerGoneMs ?? 5000, () => goneCheck(true));
      }
    },
  };
}
