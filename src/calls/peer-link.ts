import type { Payload, Signal, SignalMessage } from '../client/index.js';
import { createNegotiator, type Negotiator } from './negotiation.js';
import { deviceOf, isCallSignal, isPolite, type NegotiationSignal } from './signals.js';

/** Options of a {@link PeerLink} (`usePeerConnection`). */
export interface PeerLinkOptions {
  /** The RTCPeerConnection configuration (ICE servers …). */
  configuration?: RTCConfiguration;
  /** Tells this link's signals from another link's to the same peer; both ends must use the same. @default 'pc' */
  id?: string;
  /** Override the role (by default decided by comparing the two `identity/device`s). */
  polite?: boolean;
  /** The peer connection class (tests). @default globalThis.RTCPeerConnection */
  RTCPeerConnection?: typeof RTCPeerConnection;
}

/** A peer connection to one endpoint over direct messages (see {@link createPeerLink}). */
export interface PeerLink {
  readonly pc: RTCPeerConnection;
  readonly negotiator: Negotiator;
  /** The peer's current endpoint (follows its reconnects). */
  readonly peer: string;
  /** Stop signalling and close the peer connection. */
  close(): void;
}

/**
 * A peer connection to `peer` (`identity/device`, or an exact endpoint) over plain direct messages (`call-sdp` /
 * `call-ice`, with `call` = the link's id), negotiated perfectly ({@link createNegotiator}). The peer's address
 * follows the `from` of its signals, so a peer that reconnected (a new route) is reached at its new endpoint; so is
 * this end, by the peer.
 */
export function createPeerLink(signal: Signal<Payload>, peer: string, options: PeerLinkOptions = {}): PeerLink {
  const id = options.id ?? 'pc';
  const pc = new (options.RTCPeerConnection ?? globalThis.RTCPeerConnection)(options.configuration);
  const want = deviceOf(peer);
  const negotiator = createNegotiator(pc, {
    polite: options.polite ?? isPolite(`${signal.token.identity}/${signal.token.device}`, peer),
    send: (s) => signal.send({ ...s, to: peer, call: id }),
  });
  const off = signal.on('message', (m: SignalMessage<Payload>) => {
    if (!isCallSignal(m) || m.call !== id || (m.type !== 'call-sdp' && m.type !== 'call-ice') || deviceOf(m.from) !== want) return;
    peer = m.from;
    void negotiator.receive(m as NegotiationSignal);
  });
  return {
    pc,
    negotiator,
    get peer() {
      return peer;
    },
    close() {
      off();
      negotiator.close();
      pc.close();
    },
  };
}
