import {
  DEFAULT_FRAME_BURST,
  DEFAULT_FRAMES_PER_SECOND,
  DEFAULT_MAX_QUEUE,
  DEFAULT_PING_INTERVAL,
  DEFAULT_PONG_TIMEOUT,
  DEFAULT_REQUEST_TIMEOUT,
  MAX_FRAME_BYTES,
} from '../protocol/constants.js';
import type { AccessToken } from './access-token.js';
import type { Pace } from './outbox.js';
import type { ReconnectOption } from './reconnect.js';
import type { WebSocketConstructor } from './websocket.js';

/** Options of {@link Signal}. */
export interface SignalOptions {
  /** WebSocket URL; by default derived from the token's `aud` (`<aud>/signal/v1/pubsub`). */
  url?: string;
  /**
   * WebSocket implementation: in Node before 22, `WebSocket` from the `ws` package (installed beside this one).
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /** Reconnect: `false` to never, backoff settings, or a delay function. @default 1 s doubling to 30 s, full jitter */
  reconnect?: ReconnectOption;
  /** Fetch a fresh token (JWT or AccessToken) when the current one expired or was refused. */
  getToken?: () => Promise<string | AccessToken>;
  /**
   * Frames waiting to be written (while not open, or held back by `rateLimit`); beyond this a send is refused
   * with `SIGNAL_ERR_QUEUE_FULL`, carrying its payload. @default 256
   */
  maxQueue?: number;
  /** Keepalive `_ping` interval in ms. @default 25000 */
  pingInterval?: number;
  /** Reconnect when nothing arrives this long after a `_ping`, or when a connection attempt has not opened and answered within it, in ms. @default 10000 */
  pongTimeout?: number;
  /** Request (join) timeout in ms. @default 10000 */
  requestTimeout?: number;
  /**
   * Largest frame sent, in UTF-8 bytes (the server's `maxFrameBytes`). A bigger call is refused here
   * with `SIGNAL_ERR_TOO_LARGE` (carrying the payload) instead of getting the connection closed with 1009.
   * @default 65536
   */
  maxFrameBytes?: number;
  /**
   * Pace outgoing frames so the server's rate limit is never hit (a rejoin of many channels, a burst of
   * sends): past the burst, frames wait in the queue and leave at `framesPerSecond`. `false` to send at once.
   * @default 90% of the rate the server tells in its join replies; before the first one (or from a server that
   * does not tell) { framesPerSecond: 45, burst: 180 }, under the server's default 50/s with a burst of 200
   */
  rateLimit?: false | { framesPerSecond?: number; burst?: number };
  /** Connect from the constructor. @default true */
  autoConnect?: boolean;
  /**
   * React to the browser's hints that the link changed: on `online`, or when the page becomes visible again (a
   * laptop waking, a tab brought back), a reconnect waiting out its backoff runs at once, and an open connection
   * is checked with a `_ping` (a link that died while asleep is noticed within `pongTimeout`, not after the next
   * keepalive). No effect outside a browser. @default true
   */
  wakeEvents?: boolean;
}

/** The options with their defaults. */
export type Settings = SignalOptions & Required<Pick<SignalOptions, 'maxQueue' | 'pingInterval' | 'pongTimeout' | 'requestTimeout' | 'maxFrameBytes'>>;

/** Apply the defaults. */
export function withDefaults(options: SignalOptions): Settings {
  return {
    maxQueue: DEFAULT_MAX_QUEUE,
    pingInterval: DEFAULT_PING_INTERVAL,
    pongTimeout: DEFAULT_PONG_TIMEOUT,
    requestTimeout: DEFAULT_REQUEST_TIMEOUT,
    maxFrameBytes: MAX_FRAME_BYTES,
    ...options,
  };
}

/** The pace before any join reply: the user's `rateLimit`, or the default under the server's default limit. */
export function initialPace(rl: SignalOptions['rateLimit']): Pace | null {
  return rl === false ? null : { framesPerSecond: rl?.framesPerSecond ?? DEFAULT_FRAMES_PER_SECOND, burst: rl?.burst ?? DEFAULT_FRAME_BURST };
}
