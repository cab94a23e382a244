// Primitive names first: esbuild inlines a constant into the modules using it only when it is declared before the
// first object of this file, so the client's own names (and the limits it shares) come here, ahead of METHOD.

/** Query parameter of the WebSocket URL carrying the access token. */
export const JWT_PARAM = 'jwt';
/** Extension: query parameter naming my previous endpoint address, which the server closes (4409) if it still holds it. */
export const REPLACES_PARAM = 'replaces';

/** Close reason of `close()` (code {@link CLOSE}.NORMAL). */
export const CLOSE_REASON_CLIENT = 'client closed';
/** Close code of the client's own drop of a link that stopped answering (never sent by the server). */
export const CLOSE_KEEPALIVE = 4000;
export const CLOSE_REASON_KEEPALIVE = 'keepalive timeout';
/** How the client handles that drop: as WebSocket's abnormal close (never on the wire). */
export const CLOSE_ABNORMAL = 1006;

/** Client default: frames waiting to be written, at most. */
export const DEFAULT_MAX_QUEUE = 256;
/** Client default: keepalive `_ping` interval, ms. */
export const DEFAULT_PING_INTERVAL = 25_000;
/** Client default: how long a `_ping` or a connection attempt may go unanswered, ms. */
export const DEFAULT_PONG_TIMEOUT = 10_000;
/** Client default: request (join, refresh) timeout, ms. */
export const DEFAULT_REQUEST_TIMEOUT = 10_000;
/** Client default pace before a join reply tells the server's rate: under the server's default 50/s, burst 200. */
export const DEFAULT_FRAMES_PER_SECOND = 45;
export const DEFAULT_FRAME_BURST = 180;
/** Share of the rate a server tells that the client paces at. */
export const RATE_SHARE = 0.9;
/** A told rate above this many frames per second counts as unlimited. */
export const UNLIMITED_RATE = 1e6;
/** Reconnect backoff defaults: first delay cap and largest delay (ms), growth per attempt. */
export const DEFAULT_INITIAL_DELAY = 1_000;
export const DEFAULT_MAX_DELAY = 30_000;
export const DEFAULT_BACKOFF_FACTOR = 2;
/** My own earlier endpoint addresses a channel remembers (ghosts of me after a failover are never participants). */
export const PAST_IDS_KEPT = 8;
/** How long before a token's `exp` the client's AccessToken emits `expired` (and fetches a new one), ms. */
export const EXPIRY_MARGIN_MS = 10_000;
/** Longest delay a timer takes (a longer one fires at once), ms: 2^31 - 1. */
export const MAX_TIMER_DELAY = 2_147_483_647;
/** Backoff attempts past this count grow no further (keeps `factor ** attempt` finite). */
export const MAX_BACKOFF_EXPONENT = 60;

/**
 * Extension: the `from` of every message the server's API sends (`server.send`, `server.publish`, the unsubscribe
 * notice). No token can carry this identity, so it never names a connection.
 */
export const SERVER_FROM = '$server';

/** Largest frame in bytes (64 KiB), the default of the server's `maxFrameBytes` and of the client's. */
export const MAX_FRAME_BYTES = 65_536; // a literal: bundlers keep `64 * 1024` as a possible side effect
/** Longest channel name in characters, the default of the server's `maxChannelNameLength` and the client's check. */
export const MAX_CHANNEL_NAME = 256;

/** JSON-RPC methods of the Bit6 Signal v2 protocol, named once. */
export const METHOD = {
  send: 'signal.send',
  join: 'signal.join',
  joinBack: 'signal.join_back',
  leave: 'signal.leave',
  publish: 'signal.publish',
  /**
   * Extension (client → server, a request): hand the server a new token for the same `identity/device` on the open
   * socket, so the connection outlives the old token's `exp` without a reconnect. Params `{ jwt }`.
   */
  refresh: 'signal.refresh',
  /** Extension: a refused notification. Old clients ignore it. */
  error: 'signal.error',
  /**
   * Extension (server → client): the server's API removed this endpoint from channel `id`
   * (`{id, from: "$server", reason}`); the client must not rejoin it by itself. Old clients ignore it.
   */
  unsubscribed: 'signal.unsubscribed',
  /**
   * Extension (server → client, only to a member that joined with `batch: true`): roster changes of one channel
   * coalesced per tick, `{id, from: '', members?: [[address, state?]…], left?: [address…], self?}`. See PROTOCOL.md.
   */
  presence: 'signal.presence',
} as const;
export type Method = (typeof METHOD)[keyof typeof METHOD];

/** Raw-text keepalive frames (not JSON). */
export const PING = '_ping';
export const PONG = '_pong';

/** WebSocket URL paths the server answers on. */
export const PATHS = ['/signal/v1/pubsub', '/signal/pubsub'] as const;

/**
 * Numeric error codes carried in JSON-RPC `error.code` and in `signal.error` params.
 * The JSON-RPC reserved ones, then ours from -32001 down. See PROTOCOL.md.
 */
export const ERROR = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  UNAUTHORIZED: -32001,
  FORBIDDEN: -32002,
  RATE_LIMITED: -32003,
  TOO_LARGE: -32004,
  TOO_MANY_CHANNELS: -32005,
  NOT_JOINED: -32006,
  SHUTTING_DOWN: -32007,
  /** Too many calls waiting behind an unfinished one (a join waiting on `authorize`). */
  BUSY: -32008,
  /** The channel holds `maxMembersPerChannel` members already. */
  CHANNEL_FULL: -32009,
  /** A state update from a member that joined without presence (a state is kept only for presence members). */
  PRESENCE_REQUIRED: -32010,
} as const;
export type ErrorNumber = (typeof ERROR)[keyof typeof ERROR];

/** The stable string code of an error name: `SIGNAL_ERR_` + the name. */
type Coded<K extends string> = `SIGNAL_ERR_${K}`;
/** `{ [number]: SIGNAL_ERR_<name> }` for every name of `table` (built once, so each name is written once). */
function codesOf<T extends Record<string, number>>(table: T): { readonly [K in keyof T & string as T[K]]: Coded<K> } {
  const out: Record<number, string> = {};
  for (const k in table) out[table[k]!] = `SIGNAL_ERR_${k}`;
  return out as never;
}

/**
 * Stable string codes (`SIGNAL_ERR_*`) for every numeric code of {@link ERROR}: `SIGNAL_ERR_` + its name there
 * (`ERROR_CODE[-32004]` is `'SIGNAL_ERR_TOO_LARGE'`). Marked pure, so a bundle that does not use it drops it.
 */
export const ERROR_CODE = /* @__PURE__ */ codesOf(ERROR);

/** Client-side error codes (never on the wire). */
export const CLIENT_ERROR = {
  QUEUE_FULL: 'SIGNAL_ERR_QUEUE_FULL',
  CLOSED: 'SIGNAL_ERR_CLOSED',
  TIMEOUT: 'SIGNAL_ERR_TIMEOUT',
  TOKEN: 'SIGNAL_ERR_TOKEN',
  CONNECTION: 'SIGNAL_ERR_CONNECTION',
  PROTOCOL: 'SIGNAL_ERR_PROTOCOL',
} as const;

/** Every string error code a user can see. */
export type SignalErrorCode =
  | (typeof ERROR_CODE)[keyof typeof ERROR_CODE]
  | (typeof CLIENT_ERROR)[keyof typeof CLIENT_ERROR];

/** WebSocket close codes the server uses. */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  TOO_LARGE: 1009,
  /** The server could not check the token (key set unavailable): retry later. */
  INTERNAL_ERROR: 1011,
  UNAUTHORIZED: 4401,
  /** Extension: a newer connection of the same identity/device said it replaces this one (`replaces` in its URL). */
  REPLACED: 4409,
  FLOOD: 4429,
  /** Extension: this identity holds `maxConnectionsPerIdentity` connections on this server process already. */
  TOO_MANY_CONNECTIONS: 4430,
  /** The server process holds `maxConnections` connections already (WebSocket's "try again later"). */
  TRY_AGAIN_LATER: 1013,
  /** The server process is draining (restart, deploy): reconnect soon, with jitter; another process takes over. */
  SERVICE_RESTART: 1012,
  /** Extension: the server's API disconnected this endpoint (`disconnect`'s default code); our client stays closed. */
  DISCONNECTED: 4403,
} as const;

/** Default server limits (all overridable through `createSignalServer({ limits })`). */
export const DEFAULT_LIMITS = {
  /** Largest accepted text frame in bytes (64 KiB). */
  maxFrameBytes: MAX_FRAME_BYTES,
  /** Channels one connection may be joined to at once. */
  maxChannelsPerConnection: 100,
  /** Longest channel name in characters (the shortest is 1). */
  maxChannelNameLength: MAX_CHANNEL_NAME,
  /** Longest address (`to`) in characters. */
  maxAddressLength: 512,
  /** Sustained frames per second per connection. */
  framesPerSecond: 50,
  /** Frames a connection may send in a burst above the sustained rate. */
  frameBurst: 200,
  /**
   * Bytes queued for one reader above which it counts as behind. A reader that stays behind for
   * `slowConsumerMs` (it fails to drain), or whose queue passes `maxBufferedHardBytes`, is dropped; one burst
   * that a reading client drains in time never is.
   */
  maxBufferedBytes: 4_194_304, // 4 MiB
  /** How long a reader may stay above `maxBufferedBytes` before it is dropped as a slow consumer, in ms. */
  slowConsumerMs: 10_000,
  /**
   * Bytes queued for one reader past which it is dropped at once (bounds the server's memory per connection).
   * When only `maxBufferedBytes` is configured, this follows it at 4 times its value.
   */
  maxBufferedHardBytes: 16_777_216, // 16 MiB
  /** Sustained bytes per second a connection may send (every frame counts its length). */
  bytesPerSecond: 1_048_576, // 1 MiB/s
  /** Bytes a connection may send in a burst above the sustained byte rate. */
  byteBurst: 4_194_304, // 4 MiB
  /** Largest state a presence member may set, in bytes of its JSON (a newcomer is sent every member's state). */
  maxStateBytes: 16_384, // 16 KiB
  /** Calls one connection may have waiting behind an unfinished one (a join waiting on `authorize`). */
  maxPendingCalls: 256,
  /** Bytes of frames one connection may have waiting behind an unfinished call. */
  maxPendingBytes: 262_144, // 256 KiB
  /** Members (with or without presence) one channel may hold on one server process. */
  maxMembersPerChannel: 10_000,
  /** Open connections of one identity on one server process. */
  maxConnectionsPerIdentity: 100,
  /** Open connections on one server process (`Infinity`: no cap but the file-descriptor limit). */
  maxConnections: Infinity,
  /** A socket closed by the server that does not answer the close handshake is dropped after this many ms. */
  closeTimeoutMs: 2_000,
  /**
   * Time a silent socket has to answer a WebSocket ping, in ms. Every frame counts as a sign of life, and only a socket
   * silent for `pongTimeoutMs - pingIntervalMs` (at least `pingIntervalMs`) is pinged.
   */
  pingIntervalMs: 5_000,
  /** A socket silent (no pong, no frame) for this long is terminated, in ms (checked twice a second). */
  pongTimeoutMs: 13_000,
  /**
   * An `authorize` hook that has not answered within this many ms refuses the join (SIGNAL_ERR_FORBIDDEN), so a
   * hung check never stalls that connection's later calls, which wait behind it in order.
   */
  authorizeTimeoutMs: 10_000,
} as const;
export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };
