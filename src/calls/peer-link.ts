import type { Payload, Signal, SignalMessage } from '../client/index.js';
import { createNegotiator, type Negotiator } from './negotiation.js';
import { deviceOf, isCallSignal, isPolite, type NegotiationSignal } from './signals.js';

/** Options of a {@link PeerLink} (`usePeerConnection`). */
export interface PeerLinkOptions {
  /** The RTCPeerConnection configuration (ICE servers …). */
  configuration?: RTCConfiguration;
  /** Tells this link's signals from another link's to the same peer; both ends must use the same. @default 'pc' */
  id?: string;
  /** Override the role (by default decided by comparing the two addresses). */
  polite?: boolean;
  /** The peer connection class (tests). @default globalThis.RTCPeerConnection */
  RTCPeerConnection?: typeof RTCPeerConnection;
}

/**
 * A peer connection to one endpoint over plain direct messages (`call-sdp` / `call-ice`, with `call` = the link's
 * id), negotiated perfectly ({@link Negotiator}). The peer's address follows the `from` of its signals, so a peer
 * that reconnected (a new route) is reached at its new endpoint; so is this end, by the peer.
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly negotiator: Negotiator;
  /** The peer's current endpoint (follows its reconnects). */
  peer: string;
  readonly #off: () => void;
  readonly #id: string;

  constructor(
    readonly signal: Signal<Payload>,
    peer: string,
    options: PeerLinkOptions = {},
  ) {
    this.peer = peer;
    this.#id = options.id ?? 'pc';
    const PC = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    this.pc = new PC(options.configuration);
    const me = `${signal.token.identity}/${signal.token.device}`;
    this.negotiator = createNegotiator(this.pc, {
      polite: options.polite ?? isPolite(me, peer),
      send: (s) => signal.send({ to: this.peer, ...s, call: this.#id }),
    });
    this.#off = signal.on('message', (m) => this.#onMessage(m));
  }

  #onMessage(m: SignalMessage<Payload>): void {
    if (!isCallSignal(m) || m.call !== this.#id || (m.type !== 'call-sdp' && m.type !== 'call-ice')) return;
    const want = this.peer.includes('/') ? deviceOf(this.peer) : this.peer;
    const got = this.peer.includes('/') ? deviceOf(m.from) : m.from.split('/')[0];
    if (want !== got) return;
    this.peer = m.from;
    void this.negotiator.receive(m as NegotiationSignal);
  }

  /** Stop signalling and close the peer connection. */
  close(): void {
    this.#off();
    this.negotiator.close();
    this.pc.close();
  }
}
