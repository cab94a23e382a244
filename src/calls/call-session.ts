import type { Channel, Participant, Payload, Signal, SignalMessage } from '../client/index.js';
import { addressMatches, parseAddress } from '../protocol/address.js';
import { callReducer, IDLE, type CallEndReason, type CallEvent, type CallMachine } from './call-state.js';
import { DEFAULT_MEDIA, kindsOf, openMedia, stopMedia, type CallMedia } from './media.js';
import { Negotiator } from './negotiation.js';
import { callChannel, deviceOf, isCallSignal, newCallId, type CallSignal, type NegotiationSignal } from './signals.js';

/** Options of a call (`useCall(options)`). */
export interface CallOptions {
  /** ICE servers (STUN/TURN). Ignored when `getIceServers` is given. */
  iceServers?: RTCIceServer[];
  /** Fetch ICE servers (fresh TURN credentials) for each call. */
  getIceServers?: () => Promise<RTCIceServer[]>;
  /** How long an outgoing call rings before it ends with `timeout`. @default 30000 */
  ringTimeoutMs?: number;
  /** Local media when `start`/`accept` do not say. @default { audio: true, video: true } */
  media?: CallMedia;
  /** Answer a second incoming call `busy` while in a call (else it is left ringing on my other devices). @default true */
  busy?: boolean;
  /** How long the peer may be gone from the call's channel (a reconnect) before the call ends with `peer-gone`. @default 5000 */
  peerGoneMs?: number;
  /** How long `connecting` may last before the call ends with `failed`. @default 30000 */
  connectTimeoutMs?: number;
  /** The peer connection class (tests). @default globalThis.RTCPeerConnection */
  RTCPeerConnection?: typeof RTCPeerConnection;
}

/** Timings (`performance.now()` ms) and counters of the current call, for diagnostics and benchmarks. */
export interface CallStats {
  startedAt?: number;
  ringingAt?: number;
  acceptedAt?: number;
  connectedAt?: number;
  /** Negotiation signals sent (descriptions and ICE batches). */
  negotiationSent: number;
  /** ICE candidates gathered (one message each without batching). */
  candidates: number;
}

/** A call as `useCall` returns it: the state machine plus the live objects. */
export interface CallSnapshot extends CallMachine {
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  pc: RTCPeerConnection | null;
  /** The data channel when the call was started with `data: true` (negotiated, id 0, on both ends). */
  dataChannel: RTCDataChannel | null;
  stats: CallStats;
}

type Msg = CallSignal & { from: string };
const now = (): number => performance.now();

/**
 * One call at a time over a {@link Signal}: the invite convention (PROTOCOL.md, "Calls"), the per-call channel
 * with presence, media and the peer connection ({@link Negotiator}). Framework-free; `useCall` renders it.
 */
export class CallSession {
  #m: CallMachine = IDLE;
  #snap: CallSnapshot;
  #subs = new Set<() => void>();
  #media: { stream: MediaStream | null; owned: boolean } | null = null;
  #mediaReady: Promise<MediaStream | null> | null = null;
  /** The media request in force (a newer request or a cleanup makes an older one's result be dropped). */
  #mediaToken: object | null = null;
  #ch: Channel<Payload, unknown> | null = null;
  #offCh: (() => void)[] = [];
  #pc: RTCPeerConnection | null = null;
  #neg: Negotiator | null = null;
  #dc: RTCDataChannel | null = null;
  #remote: MediaStream | null = null;
  #early: NegotiationSignal[] = [];
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #goneWaiting = false;
  #stats: CallStats = { negotiationSent: 0, candidates: 0 };
  readonly #off: () => void;

  constructor(
    readonly signal: Signal<Payload>,
    public options: CallOptions = {},
  ) {
    this.#snap = this.#build();
    this.#off = signal.on('message', (m) => this.#onDirect(m));
  }

  subscribe = (fn: () => void): (() => void) => {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  };
  getSnapshot = (): CallSnapshot => this.#snap;

  /** Call `to` (identity: every device rings; `identity/device`; or an exact endpoint). Throws while in a call. */
  start(to: string, opts: { media?: CallMedia; data?: boolean } = {}): void {
    if (this.#live()) throw new Error('useCall: start() while a call is in progress; hang up first');
    if (!parseAddress(to)) throw new TypeError('useCall: start(to) needs identity, identity/device or identity/device/route');
    this.#cleanup();
    const id = newCallId();
    const media = opts.media ?? this.options.media ?? DEFAULT_MEDIA;
    const data = opts.data === true;
    this.#stats = { negotiationSent: 0, candidates: 0, startedAt: now() };
    this.#dispatch({ type: 'start', id, to, media: kindsOf(media), data });
    this.#join(id);
    this.#openMedia(media);
    const ring = this.options.ringTimeoutMs ?? 30_000;
    this.signal.send({ to, type: 'call-invite', call: id, media: kindsOf(media), data, timeout: ring });
    this.#timer('ring', ring, () => this.#cancel('timeout'));
  }

  /** Answer the ringing call (`media` overrides the option). */
  accept(opts: { media?: CallMedia } = {}): void {
    const m = this.#m;
    if (m.status !== 'incoming') return;
    this.#clear('ring');
    this.#stats.acceptedAt = now();
    this.#dispatch({ type: 'accept' });
    if (!this.#mediaReady) this.#openMedia(opts.media ?? this.options.media ?? DEFAULT_MEDIA);
    const ch = this.#join(m.id!);
    ch.ready.then(
      () => {
        if (this.#m.id !== m.id || this.#m.status !== 'connecting') return;
        this.signal.send({ to: m.peer!.address!, type: 'call-accept', call: m.id! });
        void this.#connect(true);
      },
      () => this.#end('failed', 'could not join the call channel'),
    );
  }

  /** Refuse the ringing call (`reason` is passed to the caller; `busy` ends it as busy). */
  decline(reason = 'declined'): void {
    const m = this.#m;
    if (m.status !== 'incoming') return;
    this.signal.send({ to: m.peer!.address!, type: 'call-decline', call: m.id!, reason });
    this.#end(reason === 'busy' ? 'busy' : 'declined');
  }

  /** End the call: cancel an outgoing one, decline an incoming one, hang up a connected one. */
  hangUp(): void {
    const m = this.#m;
    if (m.status === 'outgoing') this.#cancel('cancelled');
    else if (m.status === 'incoming') this.decline();
    else if (this.#live()) {
      if (m.peer?.address) this.#ch?.sendTo(m.peer.address, { type: 'call-hangup', call: m.id });
      this.#end('hung-up');
    }
  }

  /** Back to idle after a call ended. */
  reset(): void {
    if (!this.#live()) this.#dispatch({ type: 'reset' });
  }

  /** Hang up and stop listening. */
  dispose(): void {
    this.hangUp();
    this.#cleanup();
    this.#off();
    this.#subs.clear();
  }

  // ---- internals ----

  #live(): boolean {
    return this.#m.status !== 'idle' && this.#m.status !== 'ended';
  }

  #dispatch(e: CallEvent): void {
    const next = callReducer(this.#m, e);
    if (next === this.#m) return;
    this.#m = next;
    if (next.status === 'connected') this.#stats.connectedAt ??= now();
    if (next.status === 'ended') this.#cleanup();
    this.#changed();
  }

  #changed(): void {
    this.#snap = this.#build();
    for (const fn of [...this.#subs]) fn();
  }

  #build(): CallSnapshot {
    const st = this.#neg?.stats;
    return {
      ...this.#m,
      localStream: this.#media?.stream ?? null,
      remoteStream: this.#remote,
      pc: this.#pc,
      dataChannel: this.#dc,
      stats: { ...this.#stats, negotiationSent: st?.sent ?? this.#stats.negotiationSent, candidates: st?.candidates ?? this.#stats.candidates },
    };
  }

  #end(reason: CallEndReason, detail?: string, by?: string): void {
    this.#dispatch({ type: 'end', reason, detail, by });
  }

  #cancel(reason: 'cancelled' | 'timeout'): void {
    const m = this.#m;
    if (m.status !== 'outgoing') return;
    this.signal.send({ to: m.to!, type: 'call-cancel', call: m.id!, reason });
    this.#end(reason);
  }

  #timer(name: string, ms: number, fn: () => void): void {
    this.#clear(name);
    this.#timers.set(name, setTimeout(fn, ms));
  }
  #clear(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }

  #openMedia(media: CallMedia): void {
    const token = (this.#mediaToken = {});
    const p = openMedia(media).then(
      (m) => {
        if (this.#mediaToken !== token || !this.#live()) {
          stopMedia(m);
          return null;
        }
        this.#media = m;
        this.#changed();
        return m.stream;
      },
      (e: unknown) => {
        if (this.#mediaToken === token) {
          if (this.#m.status === 'outgoing') this.#cancel('cancelled');
          this.#end('failed', `media: ${(e as Error)?.message ?? String(e)}`);
        }
        return null;
      },
    );
    this.#mediaReady = p;
  }

  #join(id: string): Channel<Payload, unknown> {
    const ch = (this.#ch = this.signal.join(callChannel(id), { presence: true }));
    this.#offCh.push(
      ch.on('message', (msg) => this.#onChannel(msg as SignalMessage<Payload>)),
      ch.on('participant', (p, op) => this.#onParticipant(p, op)),
    );
    return ch;
  }

  /** A plain direct message: the invite handshake. */
  #onDirect(raw: SignalMessage<Payload>): void {
    if (!isCallSignal(raw)) return;
    const msg = raw as Msg;
    const m = this.#m;
    const mine = msg.call === m.id && this.#live();
    switch (msg.type) {
      case 'call-invite':
        return this.#onInvite(msg);
      case 'call-ringing':
        if (mine && m.status === 'outgoing') {
          this.#stats.ringingAt ??= now();
          this.#dispatch({ type: 'ringing', from: msg.from });
        }
        return;
      case 'call-busy':
        if (mine && m.status === 'outgoing' && m.ringing.length === 0) {
          this.signal.send({ to: m.to!, type: 'call-cancel', call: m.id! });
          this.#end('busy');
        }
        return;
      case 'call-decline':
        if (mine && m.status === 'outgoing') {
          this.signal.send({ to: m.to!, type: 'call-answered', call: m.id!, by: msg.from, answer: 'declined' });
          this.#end(msg.reason === 'busy' ? 'busy' : 'declined', typeof msg.reason === 'string' ? msg.reason : undefined, msg.from);
        }
        return;
      case 'call-accept':
        if (mine && m.status === 'outgoing') {
          this.#clear('ring');
          this.#stats.acceptedAt = now();
          this.#dispatch({ type: 'accepted', from: msg.from });
          this.signal.send({ to: m.to!, type: 'call-answered', call: m.id!, by: msg.from, answer: 'accepted' });
          void this.#connect(false);
        }
        return;
      case 'call-answered':
        if (mine && m.direction === 'incoming' && msg.by !== this.#ch?.me.id) {
          this.#end('answered-elsewhere', msg.answer === 'declined' ? 'declined' : 'accepted', typeof msg.by === 'string' ? msg.by : undefined);
        }
        return;
      case 'call-cancel':
        if (mine && m.direction === 'incoming') this.#end(msg.reason === 'timeout' ? 'timeout' : 'cancelled');
        return;
    }
  }

  #onInvite(msg: Extract<Msg, { type: 'call-invite' }>): void {
    const m = this.#m;
    if (msg.call === m.id) return;
    const kinds = { audio: msg.media?.audio === true, video: msg.media?.video === true };
    if (this.#live()) {
      const target = parseAddress(m.to);
      const from = parseAddress(msg.from);
      if (m.status === 'outgoing' && target && from && addressMatches(target, from)) {
        // Both called each other: the call with the smaller id goes on, the other is dropped by its caller.
        if (msg.call > m.id!) return;
        this.signal.send({ to: m.to!, type: 'call-cancel', call: m.id! });
        this.#clear('ring');
        this.#leave();
        this.#m = IDLE;
        this.#dispatch({ type: 'invited', id: msg.call, from: msg.from, media: kinds, data: msg.data === true });
        this.accept();
        return;
      }
      if (this.options.busy !== false) this.signal.send({ to: msg.from, type: 'call-busy', call: msg.call });
      return;
    }
    this.#cleanup();
    this.#stats = { negotiationSent: 0, candidates: 0, startedAt: now() };
    this.#dispatch({ type: 'invited', id: msg.call, from: msg.from, media: kinds, data: msg.data === true });
    this.signal.send({ to: msg.from, type: 'call-ringing', call: msg.call });
    const ring = typeof msg.timeout === 'number' && msg.timeout > 0 ? Math.min(msg.timeout, 300_000) : (this.options.ringTimeoutMs ?? 30_000);
    this.#timer('ring', ring + 5000, () => this.#m.status === 'incoming' && this.#end('timeout'));
  }

  /** A direct message in the call's channel: negotiation or hang-up, from the peer (any route of its device). */
  #onChannel(raw: SignalMessage<Payload>): void {
    if (!isCallSignal(raw)) return;
    const msg = raw as Msg;
    const m = this.#m;
    if (msg.call !== m.id || !this.#live() || !m.peer?.address || deviceOf(msg.from) !== deviceOf(m.peer.address)) return;
    if (msg.from !== m.peer.address) this.#dispatch({ type: 'peer-moved', address: msg.from });
    if (msg.type === 'call-hangup') this.#end('hung-up', undefined, msg.from);
    else if (msg.type === 'call-sdp' || msg.type === 'call-ice') {
      if (this.#neg) void this.#neg.receive(msg);
      else if (this.#early.length < 64) this.#early.push(msg);
    }
  }

  /** The call channel's presence: the peer reconnecting (a new route) or gone. */
  #onParticipant(p: Participant<unknown, Payload>, op: number): void {
    const m = this.#m;
    if ((m.status !== 'connecting' && m.status !== 'connected') || !m.peer?.address || deviceOf(p.id) !== deviceOf(m.peer.address)) return;
    if (op === 1) {
      this.#clear('gone');
      this.#goneWaiting = false;
      if (p.id !== m.peer.address) {
        this.#dispatch({ type: 'peer-moved', address: p.id });
        if (this.#pc && this.#pc.connectionState !== 'connected') this.#neg?.restartIce();
      }
    } else if (op === -1 && ![...(this.#ch?.participants.keys() ?? [])].some((id) => deviceOf(id) === deviceOf(p.id))) {
      this.#timer('gone', this.options.peerGoneMs ?? 5000, () => this.#goneCheck(true));
    }
  }

  /** The peer left the channel and did not come back: gone, unless media still flows (then when it stops). */
  #goneCheck(fired: boolean): void {
    if (fired) this.#goneWaiting = true;
    if (!this.#goneWaiting || !this.#live()) return;
    if (this.#pc?.connectionState !== 'connected') this.#end('peer-gone');
  }

  async #connect(polite: boolean): Promise<void> {
    const id = this.#m.id;
    const o = this.options;
    let iceServers = o.iceServers;
    try {
      if (o.getIceServers) iceServers = await o.getIceServers();
    } catch (e) {
      return this.#end('failed', `getIceServers: ${(e as Error)?.message ?? String(e)}`);
    }
    const stream = await this.#mediaReady;
    if (this.#m.id !== id || !this.#live() || this.#pc) return;
    const PC = o.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    const pc = (this.#pc = new PC(iceServers ? { iceServers } : {}));
    const neg = (this.#neg = new Negotiator(pc, {
      polite,
      waitForOffer: polite,
      send: (s) => {
        const addr = this.#m.peer?.address;
        if (addr) this.#ch?.sendTo(addr, { ...s, call: id });
      },
      onFailed: () => this.#end('failed', 'ICE failed after restarts'),
    }));
    pc.ontrack = (e) => {
      this.#remote = e.streams[0] ?? this.#remote ?? new MediaStream();
      if (!this.#remote.getTracks().includes(e.track)) this.#remote.addTrack(e.track);
      this.#changed();
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') this.#dispatch({ type: 'connected' });
      this.#goneCheck(false);
    };
    this.#timer('connect', o.connectTimeoutMs ?? 30_000, () => this.#m.status === 'connecting' && this.#end('failed', 'no connection'));
    // Everything to negotiate at once, so that one offer carries it.
    if (this.#m.data) this.#dc = pc.createDataChannel('data', { negotiated: true, id: 0 });
    for (const t of stream?.getTracks() ?? []) pc.addTrack(t, stream!);
    // No media and no data channel on the offering end: ask for the peer's media, so there is something to negotiate.
    if (!polite && !stream && !this.#dc) {
      if (this.#m.media.audio) pc.addTransceiver('audio', { direction: 'recvonly' });
      if (this.#m.media.video) pc.addTransceiver('video', { direction: 'recvonly' });
    }
    this.#changed();
    for (const s of this.#early.splice(0)) void neg.receive(s);
  }

  #leave(): void {
    for (const off of this.#offCh.splice(0)) off();
    this.#ch?.leave();
    this.#ch = null;
  }

  /** Release everything of the last call (state is kept: ended shows until reset). */
  #cleanup(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    if (this.#neg) {
      this.#stats.negotiationSent = this.#neg.stats.sent;
      this.#stats.candidates = this.#neg.stats.candidates;
    }
    this.#neg?.close();
    this.#neg = null;
    if (this.#pc) {
      this.#pc.ontrack = this.#pc.onconnectionstatechange = null;
      this.#pc.close();
    }
    this.#pc = null;
    this.#dc = null;
    this.#remote = null;
    stopMedia(this.#media);
    this.#media = null;
    this.#mediaReady = null;
    this.#mediaToken = null;
    this.#early = [];
    this.#goneWaiting = false;
    this.#leave();
  }
}
