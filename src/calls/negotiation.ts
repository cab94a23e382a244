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

/**
 * The MDN "perfect negotiation" pattern on one `RTCPeerConnection`: offers whenever negotiation is needed (track or
 * data channel added or removed, ICE restart), glare resolved by `makingOffer`/`ignoreOffer` and an implicit
 * rollback on the polite end, signals applied strictly in order, ICE candidates batched, and an ICE restart when the
 * connection fails. Transport-free: `send` and {@link Negotiator.receive} carry the signals.
 */
export class Negotiator {
  readonly stats: NegotiationStats = { sent: 0, candidates: 0, restarts: 0 };
  #makingOffer = false;
  #ignoreOffer = false;
  #answerPending = false;
  #queue: Promise<void> = Promise.resolve();
  #batch: RTCIceCandidateInit[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failures = 0;

  constructor(
    readonly pc: RTCPeerConnection,
    readonly options: NegotiatorOptions,
  ) {
    pc.onnegotiationneeded = () => void this.#offer();
    pc.onicecandidate = (e) => this.#candidate(e.candidate);
    pc.oniceconnectionstatechange = () => this.#iceState();
  }

  /** Apply a signal from the peer (in arrival order; each waits for the one before). */
  receive(signal: NegotiationSignal): Promise<void> {
    const step = this.#queue.then(() => this.#apply(signal)).catch((e: unknown) => this.#error(e));
    this.#queue = step;
    return step;
  }

  /** Restart ICE (new credentials; the peer answers): after a network change, or when the peer moved. */
  restartIce(): void {
    if (this.#closed) return;
    this.stats.restarts++;
    this.pc.restartIce();
  }

  /** Stop: no more signals out, pending candidates dropped, handlers removed. Does not close the connection. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#batch = [];
    const pc = this.pc;
    pc.onnegotiationneeded = pc.onicecandidate = pc.oniceconnectionstatechange = null;
  }

  #send(signal: DistributiveOmit<NegotiationSignal, 'call'>): void {
    if (this.#closed) return;
    this.stats.sent++;
    this.options.send(signal);
  }

  async #offer(): Promise<void> {
    const pc = this.pc;
    if (this.#closed || (this.options.waitForOffer && !pc.remoteDescription)) return;
    try {
      this.#makingOffer = true;
      await pc.setLocalDescription();
      if (pc.localDescription) this.#send({ type: 'call-sdp', description: pc.localDescription.toJSON() as RTCSessionDescriptionInit });
    } catch (e) {
      this.#error(e);
    } finally {
      this.#makingOffer = false;
    }
  }

  async #apply(signal: NegotiationSignal): Promise<void> {
    const pc = this.pc;
    if (this.#closed) return;
    if (signal.type === 'call-sdp') {
      const d = signal.description;
      const ready = !this.#makingOffer && (pc.signalingState === 'stable' || this.#answerPending);
      const collision = d.type === 'offer' && !ready;
      this.#ignoreOffer = !this.options.polite && collision;
      if (this.#ignoreOffer) return;
      this.#answerPending = d.type === 'answer';
      await pc.setRemoteDescription(d); // an offer in have-local-offer rolls ours back (polite end)
      this.#answerPending = false;
      if (d.type === 'offer') {
        await pc.setLocalDescription();
        if (pc.localDescription) this.#send({ type: 'call-sdp', description: pc.localDescription.toJSON() as RTCSessionDescriptionInit });
      }
      return;
    }
    for (const c of signal.candidates) {
      try {
        await pc.addIceCandidate(c);
      } catch (e) {
        if (!this.#ignoreOffer) throw e; // candidates of an offer we ignored are expected to fail
      }
    }
  }

  #candidate(c: RTCIceCandidate | null): void {
    if (this.#closed) return;
    if (c && c.candidate) {
      this.stats.candidates++;
      this.#batch.push(c.toJSON());
      this.#timer ??= setTimeout(() => this.#flush(false), this.options.batchMs ?? 50);
    } else if (!c) this.#flush(true);
  }

  #flush(done: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return; // nothing to say: the end of candidates alone is not sent
    const candidates = this.#batch;
    this.#batch = [];
    this.#send(done ? { type: 'call-ice', candidates, done } : { type: 'call-ice', candidates });
  }

  #iceState(): void {
    const s = this.pc.iceConnectionState;
    if (s === 'connected' || s === 'completed') this.#failures = 0;
    if (s !== 'failed' || this.#closed) return;
    if (++this.#failures > (this.options.maxRestarts ?? 3)) this.options.onFailed?.();
    else this.restartIce();
  }

  #error(e: unknown): void {
    if (!this.#closed) this.options.onError?.(e);
  }
}
