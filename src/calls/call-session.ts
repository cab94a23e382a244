import type { Channel, Payload, Signal, SignalMessage } from '../client/index.js';
import { addressMatches, parseAddress } from '../protocol/address.js';
import { callReducer, IDLE, type CallEndReason, type CallEvent, type CallMachine } from './call-state.js';
import { DEFAULT_MEDIA, kindsOf, openMedia, stopMedia, type CallMedia } from './media.js';
import { connectPeer, type PeerHost, type PeerPart } from './call-peer.js';
import type { CallOptions, CallSession, CallSnapshot, CallStats } from './call-types.js';
import { callChannel, isCallSignal, newCallId, type CallSignal } from './signals.js';

export type { CallOptions, CallSession, CallSnapshot, CallStats } from './call-types.js';

type Msg = CallSignal & { from: string };
const now = (): number => performance.now();
const fresh = (): CallStats => ({ negotiationSent: 0, candidates: 0, startedAt: now() });

/**
 * One call at a time over `signal`: the invite convention (PROTOCOL.md, "Calls"), the per-call channel with
 * presence, media, and the peer connection (call-peer.ts). Framework-free; `useCall` renders it.
 */
export function createCallSession(signal: Signal<Payload>, options: CallOptions = {}): CallSession {
  let m: CallMachine = IDLE;
  let media: { stream: MediaStream | null; owned: boolean } | null = null;
  let mediaReady: Promise<MediaStream | null> | null = null;
  /** The media request in force: the result of an older one (or one made before a cleanup) is dropped. */
  let mediaToken: object | null = null;
  let ch: Channel<Payload, unknown> | null = null;
  let offCh: (() => void)[] = [];
  let peer: PeerPart | null = null;
  let stats = fresh();
  const subs = new Set<() => void>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const live = (): boolean => m.status !== 'idle' && m.status !== 'ended';
  const send = (to: string, p: Payload): void => signal.send({ ...p, to, call: m.id });

  const build = (): CallSnapshot => ({
    ...m,
    localStream: media?.stream ?? null,
    remoteStream: peer?.remote ?? null,
    pc: peer?.pc ?? null,
    dataChannel: peer?.dc ?? null,
    stats: { ...stats, ...(peer && { negotiationSent: peer.neg.stats.sent, candidates: peer.neg.stats.candidates }) },
  });
  let snap = build();
  const changed = (): void => {
    snap = build();
    for (const fn of [...subs]) fn();
  };
  const dispatch = (e: CallEvent): void => {
    const next = callReducer(m, e);
    if (next === m) return;
    m = next;
    if (m.status === 'connected') stats.connectedAt ??= now();
    if (m.status === 'ended') cleanup();
    changed();
  };
  const end = (reason: CallEndReason, detail?: string, by?: string): void => dispatch({ type: 'end', reason, detail, by });
  const timer = (name: string, ms: number, fn: () => void): void => {
    clear(name);
    timers.set(name, setTimeout(fn, ms));
  };
  const clear = (name: string): void => {
    clearTimeout(timers.get(name));
    timers.delete(name);
  };
  const cancel = (reason: 'cancelled' | 'timeout'): void => {
    if (m.status !== 'outgoing') return;
    send(m.to!, { type: 'call-cancel', reason });
    end(reason);
  };
  const open = (source: CallMedia): void => {
    const token = (mediaToken = {});
    mediaReady = openMedia(source).then(
      (got) => {
        if (mediaToken !== token || !live()) return stopMedia(got), null;
        media = got;
        changed();
        return got.stream;
      },
      (e: unknown) => {
        if (mediaToken === token && live()) {
          // Tell the other side (a cancel while ringing, a hang-up once accepted), then end as failed here.
          if (m.status === 'outgoing') send(m.to!, { type: 'call-cancel' });
          else if (m.peer?.address) ch?.sendTo(m.peer.address, { type: 'call-hangup', call: m.id });
          end('failed', `media: ${(e as Error)?.message ?? e}`);
        }
        return null;
      },
    );
  };
  const leave = (): void => {
    for (const off of offCh.splice(0)) off();
    ch?.leave();
    ch = null;
  };
  const join = (id: string): Channel<Payload, unknown> => {
    const c = (ch = signal.join(callChannel(id), { presence: true }));
    offCh.push(
      c.on('message', (msg) => peerHost.onChannel(msg as SignalMessage<Payload>)),
      c.on('participant', (p, op) => peerHost.onParticipant(p.id, op)),
    );
    return c;
  };
  /** Release everything of the last call (its state stays: `ended` shows until reset). */
  const cleanup = (): void => {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    if (peer) {
      stats.negotiationSent = peer.neg.stats.sent;
      stats.candidates = peer.neg.stats.candidates;
      peer.close();
    }
    peer = null;
    stopMedia(media);
    media = mediaReady = mediaToken = null;
    leave();
  };

  const peerHost: PeerHost = connectPeer({
    state: () => m,
    live,
    channel: () => ch,
    dispatch,
    end,
    timer,
    clear,
    changed,
    options: () => session.options,
    media: () => mediaReady,
    attach: (p) => (peer = p),
    peer: () => peer,
  });

  const onInvite = (msg: Extract<Msg, { type: 'call-invite' }>): void => {
    if (msg.call === m.id) return;
    const invited: CallEvent = { type: 'invited', id: msg.call, from: msg.from, media: { audio: msg.media?.audio === true, video: msg.media?.video === true }, data: msg.data === true };
    if (live()) {
      const target = parseAddress(m.to);
      const from = parseAddress(msg.from);
      if (m.status === 'outgoing' && target && from && addressMatches(target, from)) {
        // Both called each other: the call with the smaller id goes on; its callee drops its own call and accepts.
        if (msg.call > m.id!) return;
        send(m.to!, { type: 'call-cancel' });
        clear('ring');
        leave();
        m = IDLE;
        dispatch(invited);
        session.accept();
      } else if (session.options.busy !== false) signal.send({ to: msg.from, type: 'call-busy', call: msg.call });
      return;
    }
    cleanup();
    stats = fresh();
    dispatch(invited);
    send(msg.from, { type: 'call-ringing' });
    const ring = typeof msg.timeout === 'number' && msg.timeout > 0 ? Math.min(msg.timeout, 300_000) : (session.options.ringTimeoutMs ?? 30_000);
    timer('ring', ring + 5000, () => m.status === 'incoming' && end('timeout'));
  };

  /** A plain direct message: the invite handshake. */
  const onDirect = (raw: SignalMessage<Payload>): void => {
    if (!isCallSignal(raw)) return;
    const msg = raw as Msg;
    if (msg.type === 'call-invite') return onInvite(msg);
    if (msg.call !== m.id || !live()) return;
    const out = m.status === 'outgoing';
    switch (msg.type) {
      case 'call-ringing':
        if (out) {
          stats.ringingAt ??= now();
          dispatch({ type: 'ringing', from: msg.from });
        }
        return;
      case 'call-busy':
        if (out && m.ringing.length === 0) {
          send(m.to!, { type: 'call-cancel' });
          end('busy');
        }
        return;
      case 'call-decline':
        if (out) {
          send(m.to!, { type: 'call-answered', by: msg.from, answer: 'declined' });
          end(msg.reason === 'busy' ? 'busy' : 'declined', typeof msg.reason === 'string' ? msg.reason : undefined, msg.from);
        }
        return;
      case 'call-accept':
        if (out) {
          clear('ring');
          stats.acceptedAt = now();
          dispatch({ type: 'accepted', from: msg.from });
          send(m.to!, { type: 'call-answered', by: msg.from, answer: 'accepted' });
          void peerHost.connect(false);
        }
        return;
      case 'call-answered':
        if (m.direction === 'incoming' && msg.by !== ch?.me.id) end('answered-elsewhere', msg.answer === 'declined' ? 'declined' : 'accepted', String(msg.by));
        return;
      case 'call-cancel':
        if (m.direction === 'incoming') end(msg.reason === 'timeout' ? 'timeout' : 'cancelled');
    }
  };
  const off = signal.on('message', onDirect);

  const session: CallSession = {
    options,
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    getSnapshot: () => snap,
    start(to, opts = {}) {
      const target = parseAddress(to);
      if (!target) throw new TypeError('useCall: start(to): bad address');
      const from = m.status === 'incoming' && parseAddress(m.peer?.address);
      // Calling the one who is calling me (their invite came first): that is answering.
      if (from && addressMatches(target, from)) return session.accept(opts);
      if (live()) throw new Error('useCall: a call is in progress');
      cleanup();
      const source = opts.media ?? session.options.media ?? DEFAULT_MEDIA;
      const data = opts.data === true;
      const ring = session.options.ringTimeoutMs ?? 30_000;
      stats = fresh();
      dispatch({ type: 'start', id: newCallId(), to, media: kindsOf(source), data });
      join(m.id!);
      open(source);
      send(to, { type: 'call-invite', media: m.media, data, timeout: ring });
      timer('ring', ring, () => cancel('timeout'));
    },
    accept(opts = {}) {
      const at = m;
      if (at.status !== 'incoming') return;
      clear('ring');
      stats.acceptedAt = now();
      dispatch({ type: 'accept' });
      if (!mediaReady) open(opts.media ?? session.options.media ?? DEFAULT_MEDIA);
      join(at.id!).ready.then(
        () => {
          if (m.id !== at.id || m.status !== 'connecting') return;
          send(at.peer!.address!, { type: 'call-accept' });
          void peerHost.connect(true);
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
      if (m.status === 'outgoing') cancel('cancelled');
      else if (m.status === 'incoming') session.decline();
      else if (live()) {
        if (m.peer?.address) ch?.sendTo(m.peer.address, { type: 'call-hangup', call: m.id });
        end('hung-up');
      }
    },
    reset() {
      if (!live()) dispatch({ type: 'reset' });
    },
    dispose() {
      session.hangUp();
      cleanup();
      off();
      subs.clear();
    },
  };
  return session;
}
