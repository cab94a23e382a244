import { createStore } from 'zustand/vanilla';
import type { Channel, Payload, Signal, SignalMessage } from '../client/index.js';
import { addressMatches, parseAddress } from '../protocol/address.js';
import { callReducer, IDLE, type CallEndReason, type CallEvent, type CallMachine } from './call-state.js';
import type { CallOptions, CallSession, CallSnapshot, CallStats } from './call-types.js';
import { DEFAULT_MEDIA, kindsOf, openMedia, type CallMedia } from './media.js';
import { createNegotiator, type Negotiator } from './negotiation.js';
import { callChannel, deviceOf, isCallSignal, newCallId, type CallSignal, type NegotiationSignal } from './signals.js';

export type { CallOptions, CallSession, CallSnapshot, CallStats } from './call-types.js';

type Msg = CallSignal & { from: string };
/** The snapshot of no call. */
export const IDLE_SNAPSHOT: CallSnapshot = { ...IDLE, localStream: null, remoteStream: null, pc: null, dataChannel: null, stats: { negotiationSent: 0, candidates: 0 } };
const stop = (s: MediaStream | null): void => s?.getTracks().forEach((t) => t.stop());
/** Whether `addr` is (one endpoint of) what `to` dialled (both valid: `to` was checked by `start`, `addr` is a `from`). */
const dialled = (to: string, addr: string | undefined): boolean => addressMatches(parseAddress(to)!, parseAddress(addr)!);

/**
 * One call at a time over `signal`: the invite convention (PROTOCOL.md, "Calls"), the per-call channel with
 * presence (joined by the caller before inviting, by the callee while it rings), media, and the peer connection:
 * created once accepted (the callee is polite and waits for the caller's offer), negotiated in the call's channel to
 * the peer's exact endpoint, which follows the peer's reconnects (its `identity/device` joining again with a new
 * route). The peer's device gone from the channel for `peerGoneMs` (while ringing, or while media is not flowing)
 * ends the call with `peer-gone`. Framework-free; `useCall` renders it.
 */
export function createCallSession(signal: Signal<Payload>, options: CallOptions = {}): CallSession {
  let m: CallMachine = IDLE;
  let local: MediaStream | null = null;
  /** Whether the call stops `local`'s tracks when it ends (it made the stream). */
  let owned = false;
  /** The media request in force (the result of an older one, or one made before a cleanup, is dropped). */
  let mediaReady: Promise<MediaStream | null> | null = null;
  let ch: Channel<Payload, unknown> | null = null;
  let pc: RTCPeerConnection | null = null;
  /** The negotiator of the call's peer connection (kept after the call for its counters). */
  let neg: Negotiator | null = null;
  let dc: RTCDataChannel | null = null;
  let remote: MediaStream | null = null;
  /** Negotiation signals that came before the peer connection. */
  let early: NegotiationSignal[] = [];
  /** The peer's device has been gone for `peerGoneMs`: the call ends once media stops flowing too. */
  let gone = false;
  let stats: Omit<CallStats, 'negotiationSent' | 'candidates'> = {};
  const timers: Record<string, ReturnType<typeof setTimeout>> = {};
  const live = (): boolean => m.status !== 'idle' && m.status !== 'ended';
  const send = (to: string, p: Payload): void => signal.send({ ...p, to, call: m.id });
  /** A direct message in the call channel's context to the peer's exact endpoint. */
  const toPeer = (p: Payload): void => ch?.sendTo(m.peer!.address!, { ...p, call: m.id });
  /** Whether `addr` is the peer's device (never while its endpoint is unknown: then `deviceOf` is undefined). */
  const samePeer = (addr: string): boolean => deviceOf(addr) === deviceOf(m.peer?.address);

  const store = createStore(() => IDLE_SNAPSHOT);
  const changed = (): void => store.setState({ ...m, localStream: local, remoteStream: remote, pc, dataChannel: dc, stats: { ...stats, negotiationSent: neg?.stats.sent ?? 0, candidates: neg?.stats.candidates ?? 0 } }, true);
  const dispatch = (e: CallEvent): void => {
    const next = callReducer(m, e);
    if (next === m) return;
    m = next;
    if (m.status === 'connected') stats.connectedAt ??= performance.now();
    if (m.status === 'ended') cleanup();
    changed();
  };
  const end = (reason: CallEndReason, detail?: string, by?: string): void => dispatch({ type: 'end', reason, detail, by });
  const clear = (name: string): void => clearTimeout(timers[name]);
  const timer = (name: string, ms: number, fn: () => void): void => {
    clear(name);
    timers[name] = setTimeout(fn, ms);
  };
  /** End here and tell the other side: a cancel while calling, else a hang-up. */
  const quit = (reason: CallEndReason, detail?: string): void => {
    if (m.status === 'outgoing') send(m.to!, { type: 'call-cancel', reason });
    else toPeer({ type: 'call-hangup' });
    end(reason, detail);
  };
  const open = (source: CallMedia): void => {
    const ready: Promise<MediaStream | null> = (mediaReady = openMedia(source).then(
      (got) => {
        if (mediaReady !== ready || !live()) {
          if (got !== source) stop(got);
          return null;
        }
        local = got;
        owned = got !== source;
        changed();
        return got;
      },
      (e: unknown) => {
        if (mediaReady === ready && live()) quit('failed', `media: ${(e as Error)?.message ?? e}`);
        return null;
      },
    ));
  };
  /** Join the call's channel with presence (once per call); the peer absent once joined starts the gone timer. */
  const join = (id: string): Channel<Payload, unknown> => {
    if (ch?.name === callChannel(id)) return ch;
    const c = (ch = signal.join(callChannel(id), { presence: true }));
    c.on('message', onChannel);
    c.on('participant', (p, op) => onParticipant(p.id, op));
    c.ready.then(() => c === ch && missing(), () => {});
    return c;
  };
  /** Release everything of the last call (its state stays: `ended` shows until reset). */
  const cleanup = (): void => {
    for (const k in timers) clear(k);
    neg?.close();
    pc?.close();
    if (owned) stop(local);
    pc = dc = remote = local = mediaReady = null;
    early = [];
    gone = owned = false;
    ch?.leave();
    ch = null;
  };
  /** A new call (`start` or `invited`): the last one released, fresh counters. */
  const begin = (e: CallEvent): void => {
    cleanup();
    stats = { startedAt: performance.now() };
    neg = null;
    dispatch(e);
  };

  // ---- the peer: presence in the call's channel, the peer connection ----

  const goneCheck = (): void => {
    if (gone && live() && pc?.connectionState !== 'connected') end('peer-gone');
  };
  /** The peer's device is not in the call's channel: `peer-gone` unless it is back within `peerGoneMs`. */
  const missing = (): void => {
    if (m.status !== 'outgoing' && ch && ![...ch.participants.keys()].some(samePeer)) {
      timer('gone', session.options.peerGoneMs ?? 5000, () => {
        gone = true;
        goneCheck();
      });
    }
  };
  /** The call channel's presence: the peer's device joining (a reconnect: a new route), or leaving. */
  const onParticipant = (id: string, op: number): void => {
    if (!live() || m.status === 'outgoing' || !samePeer(id)) return;
    if (op === -1) return missing();
    clear('gone');
    gone = false;
    if (op === 1 && id !== m.peer!.address) {
      dispatch({ type: 'peer-moved', address: id });
      if (pc && pc.connectionState !== 'connected') neg!.restartIce();
    }
  };
  /** A direct message in the call's channel: negotiation or hang-up, from the peer (any route of its device). */
  const onChannel = (raw: SignalMessage<Payload>): void => {
    const msg = raw as Msg;
    if (!isCallSignal(msg) || msg.call !== m.id || !live() || !samePeer(msg.from)) return;
    dispatch({ type: 'peer-moved', address: msg.from }); // no change when it did not move
    if (msg.type === 'call-hangup') end('hung-up', undefined, msg.from);
    else if (msg.type === 'call-sdp' || msg.type === 'call-ice') {
      if (pc) void neg!.receive(msg);
      else if (early.length < 64) early.push(msg);
    }
  };
  const connect = async (polite: boolean): Promise<void> => {
    const at = m;
    const opt = session.options;
    let iceServers = opt.iceServers;
    try {
      if (opt.getIceServers) iceServers = await opt.getIceServers();
    } catch (e) {
      return end('failed', `getIceServers: ${(e as Error)?.message ?? e}`);
    }
    const stream = await mediaReady;
    if (m.id !== at.id || !live() || pc) return;
    const p = (pc = new (opt.RTCPeerConnection ?? RTCPeerConnection)({ iceServers }));
    neg = createNegotiator(p, { polite, waitForOffer: polite, send: toPeer, onFailed: () => end('failed', 'ICE failed') });
    p.ontrack = (e) => {
      // A track already in the stream is not added twice (addTrack does nothing then).
      (remote = e.streams[0] ?? remote ?? new MediaStream()).addTrack(e.track);
      changed();
    };
    p.onconnectionstatechange = () => {
      if (p.connectionState === 'connected') dispatch({ type: 'connected' });
      goneCheck();
    };
    timer('connect', opt.connectTimeoutMs ?? 30_000, () => m.status === 'connecting' && end('failed', 'no connection'));
    // Everything to negotiate at once, so that one offer carries it.
    if (at.data) dc = p.createDataChannel('data', { negotiated: true, id: 0 });
    stream?.getTracks().forEach((t) => p.addTrack(t, stream));
    // No media and no data channel on the offering end: ask for the peer's media, so there is something to negotiate.
    if (!polite && !stream && !dc) for (const k of ['audio', 'video'] as const) if (at.media[k]) p.addTransceiver(k, { direction: 'recvonly' });
    changed();
    early.splice(0).forEach(neg.receive);
  };

  // ---- the invite handshake: plain direct messages ----

  const onInvite = (msg: Extract<Msg, { type: 'call-invite' }>): void => {
    if (msg.call === m.id || !/^[\w-]{1,64}$/.test(msg.call)) return;
    const invited: CallEvent = { type: 'invited', id: msg.call, from: msg.from, media: { audio: msg.media?.audio === true, video: msg.media?.video === true }, data: msg.data === true };
    if (live()) {
      if (m.status === 'outgoing' && dialled(m.to!, msg.from)) {
        // Both called each other: the call with the smaller id goes on; its callee drops its own call and accepts.
        if (msg.call > m.id!) return;
        send(m.to!, { type: 'call-cancel' });
        clear('ring');
        ch?.leave();
        ch = null;
        m = IDLE;
        dispatch(invited);
        session.accept();
      } else if (session.options.busy !== false) signal.send({ to: msg.from, type: 'call-busy', call: msg.call });
      return;
    }
    begin(invited);
    send(msg.from, { type: 'call-ringing' });
    timer('ring', Math.min(Number(msg.timeout) || (session.options.ringTimeoutMs ?? 30_000), 300_000) + 5000, () => end('timeout'));
    // Ring while the caller is there: its device gone from the call's channel ends the ringing (peer-gone).
    join(msg.call);
  };

  const off = signal.on('message', (raw: SignalMessage<Payload>) => {
    const msg = raw as Msg;
    if (!isCallSignal(msg)) return;
    if (msg.type === 'call-invite') return onInvite(msg);
    if (msg.call !== m.id || !live()) return;
    const from = msg.from;
    if (m.direction === 'incoming') {
      if (msg.type === 'call-answered' && msg.by !== ch?.me.id) end('answered-elsewhere', msg.answer === 'declined' ? 'declined' : 'accepted', String(msg.by));
      if (msg.type === 'call-cancel') end(msg.reason === 'timeout' ? 'timeout' : 'cancelled');
    } else if (m.status === 'outgoing') {
      if (msg.type === 'call-ringing') {
        stats.ringingAt ??= performance.now();
        dispatch({ type: 'ringing', from });
      }
      if (msg.type === 'call-busy' && !m.ringing.length) quit('busy');
      if (msg.type === 'call-decline') {
        send(m.to!, { type: 'call-answered', by: from, answer: 'declined' });
        end(msg.reason === 'busy' ? 'busy' : 'declined', typeof msg.reason === 'string' ? msg.reason : undefined, from);
      }
      if (msg.type === 'call-accept') {
        clear('ring');
        stats.acceptedAt = performance.now();
        dispatch({ type: 'accepted', from });
        send(m.to!, { type: 'call-answered', by: from, answer: 'accepted' });
        void connect(false);
      }
    }
  });

  const session: CallSession = {
    options,
    subscribe: store.subscribe,
    getSnapshot: store.getState,
    start(to, opts = {}) {
      if (!parseAddress(to)) throw new TypeError('useCall: bad address');
      // Calling the one who is calling me (their invite came first): that is answering.
      if (m.status === 'incoming' && dialled(to, m.peer!.address)) return session.accept(opts);
      if (live()) throw new Error('useCall: a call is in progress');
      const source = opts.media ?? session.options.media ?? DEFAULT_MEDIA;
      const data = opts.data === true;
      const ring = session.options.ringTimeoutMs ?? 30_000;
      begin({ type: 'start', id: newCallId(), to, media: kindsOf(source), data });
      join(m.id!);
      open(source);
      send(to, { type: 'call-invite', media: m.media, data, timeout: ring });
      timer('ring', ring, () => quit('timeout'));
    },
    accept(opts = {}) {
      const at = m;
      if (at.status !== 'incoming') return;
      clear('ring');
      stats.acceptedAt = performance.now();
      dispatch({ type: 'accept' });
      if (!mediaReady) open(opts.media ?? session.options.media ?? DEFAULT_MEDIA);
      join(at.id!).ready.then(
        () => {
          if (m.id !== at.id || m.status !== 'connecting') return;
          send(m.peer!.address!, { type: 'call-accept' });
          void connect(true);
        },
        () => end('failed', 'could not join the call channel'),
      );
    },
    decline(reason = 'declined') {
      if (m.status !== 'incoming') return;
      send(m.peer!.address!, { type: 'call-decline', reason });
      end(reason === 'busy' ? 'busy' : 'declined');
    },
    hangUp() {
      if (m.status === 'incoming') session.decline();
      else if (live()) quit(m.status === 'outgoing' ? 'cancelled' : 'hung-up');
    },
    reset() {
      if (!live()) dispatch({ type: 'reset' });
    },
    dispose() {
      session.hangUp();
      cleanup();
      off();
    },
  };
  return session;
}
