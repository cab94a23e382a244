import { CLIENT_ERROR, CLOSE, ERROR, ERROR_CODE, METHOD, PING, type SignalErrorCode } from '../protocol/constants.js';
import { parseAddress } from '../protocol/address.js';
import { encodeCall, parseServerFrame, type ServerNotification } from '../protocol/frames.js';
import { AccessToken } from './access-token.js';
import { exponentialBackoff, Timer, type BackoffOptions, type DelayFor } from './backoff.js';
import { Channel, type ChannelHost, type JoinOptions } from './channel.js';
import { Emitter } from './emitter.js';
import { watchWake } from './wake.js';
import { SignalError, type SignalErrorDetails } from './errors.js';
import type { ConnectionState, Payload, SignalMessage } from './types.js';

/** The part of the WebSocket API the client uses (browser `WebSocket` and `ws` both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Options of {@link Signal}. */
export interface SignalOptions {
  /** WebSocket URL; by default derived from the token's `aud` (`<aud>/signal/v1/pubsub`). */
  url?: string;
  /** WebSocket implementation. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Reconnect: `false` to never, backoff settings, or a delay function. @default 1 s doubling to 30 s, full jitter */
  reconnect?: boolean | BackoffOptions | DelayFor;
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

/** Events of {@link Signal}. */
export type SignalEvents<M extends object> = {
  /** A direct message (not in a channel's context). */
  message: [msg: SignalMessage<M>];
  /** Connection state changed. */
  state: [state: ConnectionState, prev: ConnectionState];
  /** Something was refused or could not be sent. */
  error: [error: SignalError];
};

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: SignalError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** What the request was about, put on its SignalError. */
  about: { method: string; channel?: string };
}

/** Build the WebSocket URL from a token's `aud`. */
export function urlFromToken(token: AccessToken): string {
  const aud = token.audience;
  if (!aud) throw new TypeError('the token has no aud claim; pass options.url');
  const base = aud.replace(/^http/, 'ws').replace(/\/+$/, '');
  return /\/v1$/.test(base) ? `${base}/signal/pubsub` : `${base}/signal/v1/pubsub`;
}

/** The signal client: one connection, direct messages, channels. */
export class Signal<M extends object = Payload> extends Emitter<SignalEvents<M>> {
  /** Joined channels by name. */
  readonly channels = new Map<string, Channel<Payload, unknown>>();
  #state: ConnectionState = 'closed';
  #token: AccessToken;
  #ws: WebSocketLike | null = null;
  /** Frames not written yet, in order. With `payload`: a user's call, kept across reconnects; without: a control frame (join, state, leave), re-issued after a reconnect. */
  #queue: { text: string; payload?: Payload }[] = [];
  #tokens = 0;
  #refilledAt = 0;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #pace: { framesPerSecond: number; burst: number } | null;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  readonly #reconnectTimer: Timer;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  /** Stops listening to the browser's wake hints; set while not closed. */
  #offWake: (() => void) | null = null;
  #connectedToken: string | null = null;
  /** My endpoint address on the last connection (from a join reply), sent as `replaces` when connecting again. */
  #address: string | null = null;
  #fetchingToken = false;
  /** Socket open, waiting for the first frame (see `onSocketOpen`). */
  #handshaking = false;
  readonly #opts: Required<Pick<SignalOptions, 'maxQueue' | 'pingInterval' | 'pongTimeout' | 'requestTimeout' | 'maxFrameBytes'>> & SignalOptions;
  readonly #host: ChannelHost;
  #offToken: () => void;

  constructor(token: AccessToken | string, options: SignalOptions = {}) {
    super();
    this.#token = typeof token === 'string' ? new AccessToken(token) : token;
    this.#opts = { maxQueue: 256, pingInterval: 25_000, pongTimeout: 10_000, requestTimeout: 10_000, maxFrameBytes: 65_536, ...options };
    const rl = options.rateLimit;
    this.#pace = rl === false ? null : { framesPerSecond: rl?.framesPerSecond ?? 45, burst: rl?.burst ?? 180 };
    const r = options.reconnect;
    const delayFor: DelayFor = typeof r === 'function' ? r : exponentialBackoff(typeof r === 'object' ? r : {});
    this.#reconnectTimer = new Timer(() => this.connect(), delayFor);
    this.#offToken = this.#bindToken(this.#token);
    const self = this;
    this.#host = {
      get identity() {
        return self.#token.identity;
      },
      get device() {
        return self.#token.device;
      },
      isOpen: () => this.#state === 'open',
      sendCall: (method, params) => this.#sendCall(method, params),
      sendNow: (method, params) => this.#sendNow(method, params),
      request: (method, params) => this.#request(method, params),
      removeChannel: (name, ch) => {
        if (this.channels.get(name) === (ch as unknown)) this.channels.delete(name);
      },
    };
    if (options.autoConnect !== false) this.connect();
  }

  /** Connection state: `connecting | open | reconnecting | closed`. */
  get state(): ConnectionState {
    return this.#state;
  }
  /** The current access token. */
  get token(): AccessToken {
    return this.#token;
  }
  /** Frames waiting for the connection. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Open the connection (again, after `close()`). No-op when connecting or open. */
  connect(): void {
    if (this.#ws) return;
    this.#reconnectTimer.cancel();
    if (!this.#offWake && this.#opts.wakeEvents !== false) this.#offWake = watchWake(() => this.#onWake());
    const Ctor = this.#opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      this.#fail(new SignalError(CLIENT_ERROR.CONNECTION, 'no WebSocket implementation: pass options.WebSocket'));
      return;
    }
    if (this.#token.isExpired() && this.#opts.getToken) {
      this.#refreshToken();
      return;
    }
    this.#setState(this.#state === 'open' || this.#state === 'reconnecting' ? 'reconnecting' : 'connecting');
    let url: string;
    try {
      url = this.#opts.url ?? urlFromToken(this.#token);
    } catch (e) {
      this.#fail(new SignalError(CLIENT_ERROR.TOKEN, (e as Error).message));
      return;
    }
    const jwt = this.#token.jwt;
    this.#connectedToken = jwt;
    let ws: WebSocketLike;
    try {
      // `replaces` (extension): my previous endpoint, which the server may still hold open (a half-open socket
      // after a network change); it closes it, so my old self leaves presence now, not after its dead-peer timeout.
      const prev = this.#address ? `&replaces=${encodeURIComponent(this.#address)}` : '';
      ws = new Ctor(`${url}${url.includes('?') ? '&' : '?'}jwt=${encodeURIComponent(jwt)}${prev}`);
    } catch (e) {
      this.#report(CLIENT_ERROR.CONNECTION, `cannot open WebSocket: ${(e as Error).message}`);
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    // The opening handshake and the first frame after it must come within `pongTimeout` too: a link that dies
    // mid-handshake (nothing passes, nothing closes) would otherwise leave the socket connecting for ever.
    this.#armPongTimeout(true);
    ws.onopen = () => this.#onSocketOpen(ws);
    ws.onmessage = (ev) => {
      if (this.#ws === ws) this.#onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.#ws === ws) this.#onClose(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // 'close' follows
  }

  /** Close for good (until `connect()`): no timer or socket is left behind. */
  close(): void {
    this.#reconnectTimer.cancel();
    this.#connectedToken = null; // a later token update must not reopen a closed client
    const ws = this.#teardown('connection closed');
    if (ws) closeQuietly(ws, CLOSE.NORMAL, 'client closed');
    this.#dropQueue('connection closed by close()');
    for (const ch of this.channels.values()) ch._onDisconnect();
    this.#setState('closed');
  }

  /** Close and release the token listener; the instance is not reused. */
  dispose(): void {
    this.close();
    this.#offToken();
  }

  /** Swap the access token; the next connect uses it (open channels are kept). */
  setToken(token: AccessToken | string): void {
    const next = typeof token === 'string' ? new AccessToken(token) : token;
    if (next === this.#token) return;
    this.#offToken();
    this.#token = next;
    this.#offToken = this.#bindToken(next);
    this.#connectWithNewToken();
  }

  /** Send a direct message to `identity`, `identity/device` or `identity/device/route`. */
  send(payload: M & { to: string }): void {
    const to = (payload as { to?: unknown }).to;
    if (parseAddress(to) === null) throw new TypeError('send: payload.to must be identity, identity/device or identity/device/route');
    const { id: _drop, ...rest } = payload as Payload;
    this.#sendCall(METHOD.send, rest);
  }

  /** Join a channel (the same Channel when already joined). */
  join<CM extends object = Payload, CS = unknown>(name: string, options: JoinOptions = {}): Channel<CM, CS> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new TypeError('join: channel name must be a string of 1 to 256 characters');
    }
    const existing = this.channels.get(name);
    if (existing) return existing as unknown as Channel<CM, CS>;
    const ch = new Channel<CM, CS>(name, options.presence === true, this.#host);
    this.channels.set(name, ch as unknown as Channel<Payload, unknown>);
    if (this.#state === 'open') ch._join(false);
    return ch;
  }

  // ---- internals ----

  #bindToken(token: AccessToken): () => void {
    const offExpired = token.on('expired', () => {
      if (this.#opts.getToken) this.#refreshToken(false);
    });
    const offUpdated = token.on('updated', () => this.#connectWithNewToken());
    return () => {
      offExpired();
      offUpdated();
    };
  }

  /**
   * A new token. While open: hand it to the server in place (`signal.refresh`, extension), so the connection
   * outlives the old token's `exp` with no reconnect. While closed after a refusal (not after `close()`, and
   * reconnecting is allowed): connect with it now.
   */
  #connectWithNewToken(): void {
    if (this.#state === 'open' && this.#ws) return this.#refreshInPlace();
    if (this.#state === 'closed' && !this.#ws && this.#connectedToken !== null && this.#reconnectAllowed()) this.connect();
  }

  /**
   * Send the current token on the open connection when it is for the same identity and device as the one
   * connected with (another one is used by the next connect). A server without the extension (-32601) closes the
   * connection at the old `exp` with 4401, and the client then reconnects with the new token at once.
   */
  #refreshInPlace(): void {
    const token = this.#token;
    const jwt = token.jwt;
    const connected = this.#connectedToken;
    if (jwt === connected || connected === null || token.isExpired()) return;
    let same = false;
    try {
      const was = new AccessToken(connected);
      was.dispose(); // read only: no expiry timer
      same = was.identity === token.identity && was.device === token.device;
    } catch {
      // not a token we can read: leave it to the next connect
    }
    if (!same) return;
    this.#request(METHOD.refresh, { jwt }).then(
      () => {
        if (this.#connectedToken === connected) this.#connectedToken = jwt;
      },
      (e: SignalError) => {
        // An older server, or the connection went meanwhile (the reconnect uses the new token): nothing to report.
        if (e.rpcCode === ERROR.METHOD_NOT_FOUND || e.code === CLIENT_ERROR.CLOSED) return;
        this.emit('error', e);
      },
    );
  }

  #reconnectAllowed(): boolean {
    return this.#opts.reconnect !== false;
  }

  #refreshToken(thenConnect = true): void {
    const get = this.#opts.getToken;
    if (!get || this.#fetchingToken) return;
    this.#fetchingToken = true;
    if (thenConnect) this.#setState(this.#state === 'closed' ? 'connecting' : 'reconnecting');
    /** No usable token came: report why, and retry later when this refresh was to connect. */
    const failed = (why: string): void => {
      this.#report(CLIENT_ERROR.TOKEN, why);
      if (thenConnect && this.#state !== 'closed') this.#scheduleReconnect();
    };
    let p: Promise<string | AccessToken>;
    try {
      p = Promise.resolve(get());
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (t) => {
        this.#fetchingToken = false;
        try {
          if (typeof t === 'string') this.#token.update(t);
          else if (t instanceof AccessToken) {
            if (t !== this.#token) this.setToken(t);
          } else throw new TypeError('getToken must resolve to a JWT string or an AccessToken');
        } catch (e) {
          failed(`getToken returned a bad token: ${(e as Error).message}`);
          return;
        }
        if (thenConnect && !this.#ws && this.#state !== 'closed') {
          if (this.#token.isExpired()) failed('getToken returned an expired token');
          else this.connect();
        }
      },
      (e: unknown) => {
        this.#fetchingToken = false;
        failed(`getToken failed: ${(e as Error)?.message ?? String(e)}`);
      },
    );
  }

  /**
   * The socket is up, but a refused token is only told by a 4401 close right after the upgrade.
   * So a `_ping` goes first and the connection counts as open on the first frame back: nothing
   * queued is flushed into a socket the server is about to close.
   */
  #onSocketOpen(ws: WebSocketLike): void {
    if (this.#ws !== ws) return;
    this.#handshaking = true;
    this.#write(PING);
    this.#armPongTimeout(true);
  }

  #onOpen(ws: WebSocketLike): void {
    if (this.#ws !== ws) return;
    this.#handshaking = false;
    this.#reconnectTimer.reset();
    this.#tokens = this.#pace?.burst ?? 0;
    this.#refilledAt = Date.now();
    this.#setState('open');
    this.#startKeepalive();
    // Joins first, then what was queued while away (user calls, in order).
    const q = this.#queue;
    this.#queue = [];
    // Always a rejoin: participants known from before (a reconnect, or close() then connect()) that
    // the server does not announce again are removed with op -1.
    for (const ch of [...this.channels.values()]) ch._join(true);
    for (const f of q) this.#enqueue(f);
  }

  #onClose(code: number, reason: string): void {
    this.#teardown(`connection closed (${code})`);
    for (const ch of this.channels.values()) ch._onDisconnect();
    if (code === CLOSE.UNAUTHORIZED) {
      const tokenChanged = this.#connectedToken !== this.#token.jwt;
      if (tokenChanged && !this.#token.isExpired()) {
        this.#setState('reconnecting');
        this.connect();
        return;
      }
      if (this.#opts.getToken && this.#reconnectAllowed()) {
        this.#setState('reconnecting');
        this.#refreshToken(true);
        return;
      }
      this.#fail(SignalError.fromRpc(-32001, `unauthorized: ${reason || 'token refused'}`));
      return;
    }
    if (!this.#reconnectAllowed()) {
      this.#dropQueue(`connection closed (${code})`);
      this.#setState('closed');
      return;
    }
    this.#scheduleReconnect();
  }

  /** The browser says the link may have changed: retry now, or check that the open link still answers. */
  #onWake(): void {
    if (this.#state === 'reconnecting' && !this.#ws && this.#reconnectTimer.pending) this.connect();
    else if (this.#state === 'open' && this.#ws && this.#pongTimer === undefined) this.#ping();
  }

  #scheduleReconnect(): void {
    if (!this.#reconnectAllowed()) {
      this.#setState('closed');
      return;
    }
    this.#setState('reconnecting');
    this.#reconnectTimer.schedule();
  }

  #fail(err: SignalError): void {
    this.emit('error', err);
    this.#dropQueue(err.message);
    this.#setState('closed');
  }

  #onFrame(data: unknown): void {
    this.#armPongTimeout(false);
    if (this.#handshaking && this.#ws) this.#onOpen(this.#ws);
    if (typeof data !== 'string') return; // binary from server: not part of the protocol
    const parsed = parseServerFrame(data);
    try {
      if (parsed.kind === 'notification') this.#onNotification(parsed.note);
      else if (parsed.kind === 'response') {
        const r = parsed.response;
        const p = this.#pending.get(r.id as number); // ids are numbers: a string id matches none
        if (!p) return;
        this.#pending.delete(r.id as number);
        clearTimeout(p.timer);
        if ('error' in r) p.reject(SignalError.fromRpc(r.error.code, r.error.message, p.about));
        else {
          if (p.about.method === METHOD.join) {
            this.#adoptRate(r.result);
            const addr = (r.result as { address?: unknown } | null)?.address;
            if (typeof addr === 'string') this.#address = addr;
          }
          p.resolve(r.result);
        }
      }
    } catch (e) {
      this.#report(CLIENT_ERROR.PROTOCOL, `bad frame: ${(e as Error).message}`);
    }
  }

  #onNotification(note: ServerNotification): void {
    const params = note.params as Payload & { from?: unknown; id?: unknown };
    const chName = typeof params.id === 'string' ? params.id : undefined;
    if (note.method === METHOD.error) {
      const p = note.params;
      this.emit('error', SignalError.fromRpc(p.code, p.message, { method: p.method, channel: chName }));
      return;
    }
    if (typeof params.from !== 'string') return;
    const from = params.from;
    if (chName === undefined) {
      if (note.method === METHOD.send) this.emit('message', params as SignalMessage<M>);
      return;
    }
    const ch = this.channels.get(chName);
    if (!ch || ch.status === 'left' || ch.status === 'failed') return; // not joined: dropped, as the SDK does
    switch (note.method) {
      case METHOD.join:
      case METHOD.joinBack:
        return ch._onJoin(from);
      case METHOD.leave:
        return ch._onLeave(from);
      case METHOD.publish:
      case METHOD.send:
        if ('state' in params) return ch._onState(from, params.state);
        return ch._onMessage(params as SignalMessage<Payload>);
    }
  }

  #request(method: string, params: Payload): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#state !== 'open') {
        reject(new SignalError(CLIENT_ERROR.CLOSED, 'not connected', { method }));
        return;
      }
      const id = ++this.#seq;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SignalError(CLIENT_ERROR.TIMEOUT, `${method} timed out`, { method }));
      }, this.#opts.requestTimeout);
      this.#pending.set(id, { resolve, reject, timer, about: { method, channel: typeof params.id === 'string' ? params.id : undefined } });
      this.#enqueue({ text: encodeCall(method, params, id) });
    });
  }

  #sendNow(method: string, params: Payload): void {
    if (this.#state !== 'open') return;
    const text = encodeCall(method, params);
    if (!this.#tooLarge(method, params, text)) this.#enqueue({ text });
  }

  /** Refuse (and report) a frame the server would close the connection for. */
  #tooLarge(method: string, params: Payload, text: string): boolean {
    const max = this.#opts.maxFrameBytes;
    if (text.length <= max / 3) return false; // even all 3-byte characters fit
    if (new TextEncoder().encode(text).length <= max) return false;
    this.#refuse(ERROR_CODE[ERROR.TOO_LARGE], method, params, `frame larger than ${max} bytes`);
    return true;
  }

  /** Report a call that was not sent, carrying its payload. */
  #refuse(code: SignalErrorCode, method: string, params: Payload, why: string): void {
    this.#report(code, `${method} not sent: ${why}`, { method, payload: params });
  }

  #report(code: SignalErrorCode, message: string, extra?: SignalErrorDetails): void {
    this.emit('error', new SignalError(code, message, extra));
  }

  #sendCall(method: string, params: Payload): void {
    const text = encodeCall(method, params);
    if (this.#tooLarge(method, params, text)) return;
    if (this.#state === 'closed' && !this.#ws && !this.#reconnectTimer.pending && !this.#fetchingToken) {
      this.#refuse(CLIENT_ERROR.CLOSED, method, params, 'the connection is closed');
      return;
    }
    const max = this.#opts.maxQueue;
    if (this.#queue.length >= max) {
      this.#refuse(CLIENT_ERROR.QUEUE_FULL, method, params, `${max} frames already queued`);
      return;
    }
    this.#enqueue({ text, payload: params });
  }

  /** Write now when open, paced and nothing waits; else queue (drained by a timer once open). */
  #enqueue(item: { text: string; payload?: Payload }): void {
    if (this.#state === 'open' && this.#queue.length === 0 && this.#takeToken()) {
      this.#write(item.text);
      return;
    }
    this.#queue.push(item);
    this.#armDrain();
  }

  /** Pace under the rate the server told (extension of the join reply), unless the user chose a pace. */
  #adoptRate(result: unknown): void {
    if (this.#opts.rateLimit !== undefined) return;
    const rate = (result as { rate?: { framesPerSecond?: unknown; burst?: unknown } } | null)?.rate;
    if (typeof rate !== 'object' || rate === null) return;
    const { framesPerSecond: fps, burst } = rate;
    if (fps === null) {
      // An unlimited server (Infinity serializes as null).
      this.#pace = null;
      this.#armDrain();
      return;
    }
    if (typeof fps !== 'number' || typeof burst !== 'number' || !(fps > 0) || !(burst >= 1)) return;
    const next = fps > 1e6 ? null : { framesPerSecond: fps * 0.9, burst: Math.max(1, Math.floor(burst * 0.9)) };
    if (next && this.#pace && next.framesPerSecond === this.#pace.framesPerSecond && next.burst === this.#pace.burst) return;
    this.#pace = next;
    if (next) this.#tokens = Math.min(this.#tokens, next.burst);
    if (this.#drainTimer !== undefined) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = undefined;
    }
    this.#armDrain();
  }

  #takeToken(cost = 1, force = false): boolean {
    const pace = this.#pace;
    if (!pace) return true;
    const now = Date.now();
    this.#tokens = Math.min(pace.burst, this.#tokens + ((now - this.#refilledAt) * pace.framesPerSecond) / 1000);
    this.#refilledAt = now;
    if (this.#tokens < cost && !force) return false;
    this.#tokens -= cost;
    return true;
  }

  #armDrain(): void {
    if (this.#drainTimer !== undefined || this.#state !== 'open' || this.#queue.length === 0) return;
    const wait = this.#pace ? Math.ceil(((1 - this.#tokens) * 1000) / this.#pace.framesPerSecond) : 0;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      while (this.#state === 'open' && this.#queue.length > 0 && this.#takeToken()) this.#write(this.#queue.shift()!.text);
      this.#armDrain();
    }, Math.max(1, wait));
  }

  /** Stop draining; control frames are dropped (re-issued after a reconnect), user calls stay queued. */
  #stopDrain(): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    if (this.#queue.some((f) => f.payload === undefined)) this.#queue = this.#queue.filter((f) => f.payload !== undefined);
  }

  #write(text: string): void {
    try {
      this.#ws?.send(text);
    } catch (e) {
      this.#report(CLIENT_ERROR.CONNECTION, `send failed: ${(e as Error).message}`);
    }
  }

  #dropQueue(why: string): void {
    const q = this.#queue;
    if (q.length === 0) return;
    this.#queue = [];
    this.#report(CLIENT_ERROR.CLOSED, `${q.length} queued frame(s) dropped: ${why}`, { payload: q.map((f) => f.payload) });
  }

  /** Forget the socket (closed, or about to be) and what hangs on it: timers, control frames, pending requests. */
  #teardown(why: string): WebSocketLike | null {
    const ws = this.#ws;
    this.#ws = null;
    if (ws) detach(ws);
    this.#handshaking = false;
    this.#stopDrain();
    this.#stopKeepalive();
    this.#rejectPending(new SignalError(CLIENT_ERROR.CLOSED, why));
    return ws;
  }

  #rejectPending(err: SignalError): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(err);
    }
  }

  #startKeepalive(): void {
    this.#stopKeepalive();
    this.#pingTimer = setInterval(() => this.#ping(), this.#opts.pingInterval);
  }

  /** Send a `_ping` and wait for a sign of life. Pings jump the queue but count, as on the server. */
  #ping(): void {
    this.#takeToken(1, true);
    this.#write(PING);
    this.#armPongTimeout(true);
  }

  /** `arm`: start waiting for a sign of life (kept if already waiting: a later ping must not push the deadline); else stop. */
  #armPongTimeout(arm: boolean): void {
    if (arm && this.#pongTimer !== undefined) return;
    if (this.#pongTimer !== undefined) clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
    if (!arm) return;
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = undefined;
      // Nothing came back: the link is dead (sleeping laptop, cut cable). Drop it and reconnect.
      const ws = this.#ws;
      if (!ws) return;
      closeQuietly(ws, 4000, 'keepalive timeout');
      this.#onClose(1006, 'keepalive timeout');
    }, this.#opts.pongTimeout);
  }

  #stopKeepalive(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#armPongTimeout(false);
  }

  #setState(s: ConnectionState): void {
    const prev = this.#state;
    if (prev === s) return;
    this.#state = s;
    if (s === 'closed' && this.#offWake) {
      this.#offWake(); // a closed client holds no listener on window or document
      this.#offWake = null;
    }
    this.emit('state', s, prev);
  }
}

function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  // Keep a no-op: Node's `ws` emits 'error' when closed while still connecting, and throws if nobody listens.
  ws.onerror = () => {};
}

/** Detach, then close; a socket that throws on close is closed already. */
function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  detach(ws);
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
