import type { NegotiationSignal } from './signals.js';

/** What a {@link Negotiator} needs: its peer connection, its role and a way to reach the peer. */
export interface NegotiatorOptions {
  /** The polite end rolls back its own offer on glare; the impolite end ignores the peer's. */
  polite: boolean;
  /** Send a signal to the peer (without `call`, which the caller adds). */
  send: (signal: DistributiveOmit<NegotiationSignal, 'call'>) => void;
  /** ICE candidates gathered within this many ms go out in one message (also flushed when gathering completes). @default 50 */
  batchMs?: number;
  /** Make no offer until the peer's first one arrived (the callee of a call: saves a glare round). @default false */
  waitForOffer?: boolean;
  /** ICE restarts tried after the connection failed, before {@link NegotiatorOptions.onFailed}. @default 3 */
  maxRestarts?: number;
  /** The connection failed for good (every restart failed too). */
  onFailed?: () => void;
  /** A negotiation step failed (it is reported, never thrown). */
  onError?: (error: unknown) => void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Counters, for tests and the benchmarks. */
export interface NegotiationStats {
  /** Signals sent: descriptions and candidate batches. */
  sent: number;
  /** ICE candidates gathered (what one message per candidate would have cost). */
  candidates: number;
  /** ICE restarts made. */
  restarts: number;
}

/** The negotiation of one peer connection (see {@link createNegotiator}). */
export interface Negotiator {
  readonly pc: RTCPeerConnection;
  readonly options: NegotiatorOptions;
  readonly stats: NegotiationStats;
  /** Apply a signal from the peer (in arrival order; each waits for the one before). */
  receive(signal: NegotiationSignal): Promise<void>;
  /** Restart ICE (new credentials; the peer answers): after a network change, or when the peer moved. */
  restartIce(): void;
  /** Stop: no more signals out, pending candidates dropped, events ignored. Does not close the connection. */
  close(): void;
}

/**
 * The MDN "perfect negotiation" pattern on one `RTCPeerConnection`: offers whenever negotiation is needed (track or
 * data channel added or removed, ICE restart), glare resolved by `makingOffer`/`ignoreOffer` and an implicit
 * rollback on the polite end, signals applied strictly in order, ICE candidates batched, and an ICE restart when the
 * connection fails. Transport-free: `options.send` and {@link Negotiator.receive} carry the signals.
 */
export function createNegotiator(pc: RTCPeerConnection, options: NegotiatorOptions): Negotiator {
  const stats: NegotiationStats = { sent: 0, candidates: 0, restarts: 0 };
  let makingOffer = false;
  let ignoreOffer = false;
  let answerPending = false;
  let queue: Promise<void> = Promise.resolve();
  const batch: RTCIceCandidateInit[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let failures = 0;

  const error = (e: unknown): void => {
    if (!closed) options.onError?.(e);
  };
  const send = (signal: DistributiveOmit<NegotiationSignal, 'call'>): void => {
    if (closed) return;
    stats.sent++;
    options.send(signal);
  };
  const sendDescription = (): void => {
    if (pc.localDescription) send({ type: 'call-sdp', description: pc.localDescription.toJSON() as RTCSessionDescriptionInit });
  };
  const flush = (done: boolean): void => {
    clearTimeout(timer);
    timer = undefined;
    // Nothing to say: the end of candidates alone is not sent.
    if (batch.length) send({ type: 'call-ice', candidates: batch.splice(0), done: done || undefined });
  };
  const apply = async (signal: NegotiationSignal): Promise<void> => {
    if (closed) return;
    if (signal.type === 'call-sdp') {
      const d = signal.description;
      const ready = !makingOffer && (pc.signalingState === 'stable' || answerPending);
      ignoreOffer = !options.polite && d.type === 'offer' && !ready;
      if (ignoreOffer) return;
      answerPending = d.type === 'answer';
      await pc.setRemoteDescription(d); // an offer in have-local-offer rolls ours back (polite end)
      answerPending = false;
      if (d.type === 'offer') {
        await pc.setLocalDescription();
        sendDescription();
      }
      return;
    }
    for (const c of signal.candidates) {
      try {
        await pc.addIceCandidate(c);
      } catch (e) {
        if (!ignoreOffer) throw e; // candidates of an offer we ignored are expected to fail
      }
    }
  };

  const n: Negotiator = {
    pc,
    options,
    stats,
    receive(signal) {
      return (queue = queue.then(() => apply(signal)).catch(error));
    },
    restartIce() {
      if (closed) return;
      stats.restarts++;
      pc.restartIce();
    },
    close() {
      closed = true; // nothing goes out any more (send), so the pending candidates are dropped
      clearTimeout(timer);
    },
  };

  pc.onnegotiationneeded = async () => {
    if (closed || (options.waitForOffer && !pc.remoteDescription)) return;
    try {
      makingOffer = true;
      await pc.setLocalDescription();
      sendDescription();
    } catch (e) {
      error(e);
    } finally {
      makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate: c }) => {
    if (closed) return;
    if (!c) return flush(true);
    if (!c.candidate) return;
    stats.candidates++;
    batch.push(c.toJSON());
    timer ??= setTimeout(() => flush(false), options.batchMs ?? 50);
  };
  pc.oniceconnectionstatechange = () => {
    const s = pc.iceConnectionState;
    if (s === 'connected' || s === 'completed') failures = 0;
    if (s !== 'failed' || closed) return;
    if (++failures > (options.maxRestarts ?? 3)) options.onFailed?.();
    else n.restartIce();
  };
  return n;
}
