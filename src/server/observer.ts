/**
 * What the core tells whoever watches it (logs, metrics): a small hook with optional methods, called at the points an
 * operator cares about, and plain number counters the hot path bumps (read at scrape time). The core imports no
 * logger and no metrics library; the Node server plugs both in (observe.ts). Nothing here is called per delivery
 * except the counters, which are plain increments.
 */
import type { FrameError } from '../protocol/frames.js';

/** A connection as the observer sees it (a `Session`; named here so this file does not import session.ts). */
export interface Session {
  readonly identity: string;
  readonly device: string;
  readonly route: string;
  readonly address: string;
}

/** Hooks the core calls; every method optional, none may throw (the core does not catch around them). */
export interface CoreObserver {
  /** A connection was accepted (registered with the core). */
  connected?(s: Session): void;
  /** A call or frame was refused (a JSON-RPC error or a `signal.error` went back). */
  refused?(s: Session, err: FrameError): void;
  /** The server closes `s` with `code` (flood 4429, frame too large 1009, token expired 4401, replaced 4409, drain 1012, shutdown 1001). */
  closing?(s: Session, code: number, reason: string): void;
  /** `s` was dropped as a slow consumer (its send queue stayed over the bound, or went past the hard bound). */
  slowConsumer?(s: Session, bufferedBytes: number): void;
  /** The broker link went up or down (Redis connected, lost, back). */
  broker?(up: boolean): void;
  /** A broker round trip (the Redis heartbeat write), in milliseconds. */
  brokerRoundTrip?(ms: number): void;
  /** A sampled publish: members written to and the time from receipt to the last socket write, in milliseconds. */
  fanOut?(size: number, ms: number): void;
}

/** Names of the kinds of frames counted in and out, by index (see {@link frameKind}, {@link inKind}). */
export const FRAME_KINDS = ['send', 'publish', 'join', 'join_back', 'leave', 'refresh', 'error', 'result', 'ping', 'pong', 'invalid', 'binary'] as const;
export type FrameKindName = (typeof FRAME_KINDS)[number];
const K = Object.fromEntries(FRAME_KINDS.map((n, i) => [n, i])) as Record<FrameKindName, number>;

/** Plain counters, bumped in the hot path (no allocation), read by the metrics collector at scrape time. */
export interface Counters {
  /** Frames received, by {@link FRAME_KINDS} index. */
  readonly framesIn: number[];
  /** Frames written to sockets, by {@link FRAME_KINDS} index. */
  readonly framesOut: number[];
  bytesIn: number;
  bytesOut: number;
}

export function newCounters(): Counters {
  return { framesIn: FRAME_KINDS.map(() => 0), framesOut: FRAME_KINDS.map(() => 0), bytesIn: 0, bytesOut: 0 };
}

/** The kind of a received call's method. */
export function inKind(method: string): number {
  switch (method) {
    case 'signal.send':
      return K.send;
    case 'signal.publish':
      return K.publish;
    case 'signal.join':
      return K.join;
    case 'signal.leave':
      return K.leave;
    case 'signal.refresh':
      return K.refresh;
    default:
      return K.invalid;
  }
}
export const KIND_PING = K.ping;
export const KIND_INVALID = K.invalid;
export const KIND_BINARY = K.binary;

/**
 * The kind of an encoded server frame, read from a few characters (no allocation): a notification starts with
 * `{"jsonrpc":"2.0","method":"signal.` (34 characters), a response with `{"jsonrpc":"2.0","id":`.
 */
export function frameKind(text: string): number {
  if (text.charCodeAt(0) !== 123 /* { */) return K.pong;
  if (text.charCodeAt(18) === 105 /* i of "id" */) return text.indexOf('"error":') > 0 ? K.error : K.result;
  switch (text.charCodeAt(34)) {
    case 112: // p
      return K.publish;
    case 115: // s
      return K.send;
    case 106: // j
      return text.charCodeAt(38) === 95 /* _ */ ? K.join_back : K.join;
    case 108: // l
      return K.leave;
    case 101: // e
      return K.error;
    default:
      return K.invalid;
  }
}
