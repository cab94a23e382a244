import type { CallMachine } from './call-state.js';
import type { CallMedia } from './media.js';

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
  /**
   * How long the peer may be gone from the call's channel (a reconnect) before the call ends with `peer-gone`; also
   * while ringing (the caller gone: the callee stops ringing). @default 5000
   */
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

/** One call at a time over a Signal (see {@link createCallSession}). */
export interface CallSession {
  /** The options in force (replace to change them for the next call). */
  options: CallOptions;
  subscribe(fn: () => void): () => void;
  getSnapshot(): CallSnapshot;
  /**
   * Call `to` (identity: every device rings; `identity/device`; or an exact endpoint). While `to` is ringing me, this
   * accepts their call instead (both called each other). Throws while in another call.
   */
  start(to: string, opts?: { media?: CallMedia; data?: boolean }): void;
  /** Answer the ringing call (`media` overrides the option). */
  accept(opts?: { media?: CallMedia }): void;
  /** Refuse the ringing call (`reason` goes to the caller; `busy` ends it as busy). */
  decline(reason?: string): void;
  /** Cancel an outgoing call, decline an incoming one, hang up a connected one. */
  hangUp(): void;
  /** Back to idle after a call ended. */
  reset(): void;
  /** Hang up and stop listening. */
  dispose(): void;
}

