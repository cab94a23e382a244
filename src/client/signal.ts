import { CLIENT_ERROR, CLOSE, ERROR, ERROR_CODE, METHOD, PING } from '../protocol/constants.js';
import { parseAddress } from '../protocol/address.js';
import { encodeCall, parseServerFrame, type ServerNotification } from '../protocol/frames.js';
import { AccessToken } from './access-token.js';
import { exponentialBackoff, Timer, type BackoffOptions, type DelayFor } from './backoff.js';
import { Channel, type ChannelHost, type JoinOptions } from './channel.js';
import { Emitter } from './emitter.js';
import { SignalError } from './errors.js';
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
  /** Reconnect when nothing arrives this long after a `_ping`, in ms. @default 10000 */
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
  private st: ConnectionState = 'closed';
  private tk: AccessToken;
  private ws: WebSocketLike | null = null;
  /** Frames not written yet, in order. With `payload`: a user's call, kept across reconnects; without: a control frame (join, state, leave), re-issued after a reconnect. */
  private q: { text: string; payload?: Payload }[] = [];
  private tn = 0;
  private ra = 0;
  private dt: ReturnType<typeof setTimeout> | undefined;
  private pc: { framesPerSecond: number; burst: number } | null;
  private readonly pd = new Map<number, Pending>();
  private sq = 0;
  private readonly rt: Timer;
  private pt: ReturnType<typeof setInterval> | undefined;
  private po: ReturnType<typeof setTimeout> | undefined;
  private ct: string | null = null;
  private ft = false;
  /** Socket open, waiting for the first frame (see `onSocketOpen`). */
  private hs = false;
  private readonly o: Required<Pick<SignalOptions, 'maxQueue' | 'pingInterval' | 'pongTimeout' | 'requestTimeout' | 'maxFrameBytes'>> & SignalOptions;
  private readonly h: ChannelHost;
  private ot: () => void;

  constructor(token: AccessToken | string, options: SignalOptions = {}) {
    super();
    this.tk = typeof token === 'string' ? new AccessToken(token) : token;
    this.o = { maxQueue: 256, pingInterval: 25_000, pongTimeout: 10_000, requestTimeout: 10_000, maxFrameBytes: 64 * 1024, ...options };
    const rl = options.rateLimit;
    this.pc = rl === false ? null : { framesPerSecond: rl?.framesPerSecond ?? 45, burst: rl?.burst ?? 180 };
    const r = options.reconnect;
    const delayFor: DelayFor = typeof r === 'function' ? r : exponentialBackoff(typeof r === 'object' ? r : {});
    this.rt = new Timer(() => this.connect(), delayFor);
    this.ot = this.bt(this.tk);
    const self = this;
    this.h = {
      get identity() {
        return self.tk.identity;
      },
      get device() {
        return self.tk.device;
      },
      isOpen: () => this.st === 'open',
      sendCall: (method, params) => this.sc(method, params),
      sendNow: (method, params) => this.sn(method, params),
      request: (method, params) => this.rq(method, params),
      removeChannel: (name, ch) => {
        if (this.channels.get(name) === (ch as unknown)) this.channels.delete(name);
      },
    };
    if (options.autoConnect !== false) this.connect();
  }

  /** Connection state: `connecting | open | reconnecting | closed`. */
  get state(): ConnectionState {
    return this.st;
  }
  /** The current access token. */
  get token(): AccessToken {
    return this.tk;
  }
  /** Frames waiting for the connection. */
  get queued(): number {
    return this.q.length;
  }

  /** Open the connection (again, after `close()`). No-op when connecting or open. */
  connect(): void {
    if (this.ws) return;
    this.rt.cancel();
    const Ctor = this.o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      this.fl(new SignalError(CLIENT_ERROR.CONNECTION, 'no WebSocket implementation: pass options.WebSocket'));
      return;
    }
    if (this.tk.isExpired() && this.o.getToken) {
      this.rf();
      return;
    }
    this.ss(this.st === 'open' || this.st === 'reconnecting' ? 'reconnecting' : 'connecting');
    let url: string;
    try {
      url = this.o.url ?? urlFromToken(this.tk);
    } catch (e) {
      this.fl(new SignalError(CLIENT_ERROR.TOKEN, (e as Error).message));
      return;
    }
    const jwt = this.tk.jwt;
    this.ct = jwt;
    let ws: WebSocketLike;
    try {
      ws = new Ctor(`${url}${url.includes('?') ? '&' : '?'}jwt=${encodeURIComponent(jwt)}`);
    } catch (e) {
      this.emit('error', new SignalError(CLIENT_ERROR.CONNECTION, `cannot open WebSocket: ${(e as Error).message}`));
      this.sr();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.so(ws);
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.of(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.oc(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // 'close' follows
  }

  /** Close for good (until `connect()`): no timer or socket is left behind. */
  close(): void {
    this.rt.cancel();
    this.kk();
    this.sd();
    this.ct = null; // a later token update must not reopen a closed client
    this.hs = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(CLOSE.NORMAL, 'client closed');
      } catch {
        // already closed
      }
    }
    this.rp(new SignalError(CLIENT_ERROR.CLOSED, 'connection closed'));
    this.dq('connection closed by close()');
    for (const ch of this.channels.values()) ch._onDisconnect();
    this.ss('closed');
  }

  /** Close and release the token listener; the instance is not reused. */
  dispose(): void {
    this.close();
    this.ot();
  }

  /** Swap the access token; the next connect uses it (open channels are kept). */
  setToken(token: AccessToken | string): void {
    const next = typeof token === 'string' ? new AccessToken(token) : token;
    if (next === this.tk) return;
    this.ot();
    this.tk = next;
    this.ot = this.bt(next);
    if (this.st === 'closed' && this.ct !== null && !this.ws && this.rc()) this.connect();
  }

  /** Send a direct message to `identity`, `identity/device` or `identity/device/route`. */
  send(payload: M & { to: string }): void {
    const to = (payload as { to?: unknown }).to;
    if (parseAddress(to) === null) throw new TypeError('send: payload.to must be identity, identity/device or identity/device/route');
    const { id: _drop, ...rest } = payload as Payload;
    this.sc(METHOD.send, rest);
  }

  /** Join a channel (the same Channel when already joined). */
  join<CM extends object = Payload, CS = unknown>(name: string, options: JoinOptions = {}): Channel<CM, CS> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new TypeError('join: channel name must be a string of 1 to 256 characters');
    }
    const existing = this.channels.get(name);
    if (existing) return existing as unknown as Channel<CM, CS>;
    const ch = new Channel<CM, CS>(name, options.presence === true, this.h);
    this.channels.set(name, ch as unknown as Channel<Payload, unknown>);
    if (this.st === 'open') ch._join(false);
    return ch;
  }

  // ---- internals ----

  private bt(token: AccessToken): () => void {
    const offExpired = token.on('expired', () => {
      if (this.o.getToken) this.rf(false);
    });
    const offUpdated = token.on('updated', () => {
      // A new token while we wait to reconnect after a refusal: use it now.
      if (this.st === 'closed' && !this.ws && this.ct !== null && this.rc()) this.connect();
    });
    return () => {
      offExpired();
      offUpdated();
    };
  }

  private rc(): boolean {
    return this.o.reconnect !== false;
  }

  private rf(thenConnect = true): void {
    const get = this.o.getToken;
    if (!get || this.ft) return;
    this.ft = true;
    if (thenConnect) this.ss(this.st === 'closed' ? 'connecting' : 'reconnecting');
    let p: Promise<string | AccessToken>;
    try {
      p = Promise.resolve(get());
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (t) => {
        this.ft = false;
        try {
          if (typeof t === 'string') this.tk.update(t);
          else if (t instanceof AccessToken) {
            if (t !== this.tk) this.setToken(t);
          } else throw new TypeError('getToken must resolve to a JWT string or an AccessToken');
        } catch (e) {
          this.emit('error', new SignalError(CLIENT_ERROR.TOKEN, `getToken returned a bad token: ${(e as Error).message}`));
          if (thenConnect && this.st !== 'closed') this.sr();
          return;
        }
        if (thenConnect && !this.ws && this.st !== 'closed') {
          if (this.tk.isExpired()) {
            this.emit('error', new SignalError(CLIENT_ERROR.TOKEN, 'getToken returned an expired token'));
            this.sr();
          } else this.connect();
        }
      },
      (e: unknown) => {
        this.ft = false;
        this.emit('error', new SignalError(CLIENT_ERROR.TOKEN, `getToken failed: ${(e as Error)?.message ?? String(e)}`));
        if (thenConnect && this.st !== 'closed') this.sr();
      },
    );
  }

  /**
   * The socket is up, but a refused token is only told by a 4401 close right after the upgrade.
   * So a `_ping` goes first and the connection counts as open on the first frame back: nothing
   * queued is flushed into a socket the server is about to close.
   */
  private so(ws: WebSocketLike): void {
    if (this.ws !== ws) return;
    this.hs = true;
    this.w(PING);
    this.ap(true);
  }

  private oo(ws: WebSocketLike): void {
    if (this.ws !== ws) return;
    this.hs = false;
    this.rt.reset();
    this.tn = this.pc?.burst ?? 0;
    this.ra = Date.now();
    this.ss('open');
    this.sk();
    // Joins first, then what was queued while away (user calls, in order).
    const q = this.q;
    this.q = [];
    // Always a rejoin: participants known from before (a reconnect, or close() then connect()) that
    // the server does not announce again are removed with op -1.
    for (const ch of [...this.channels.values()]) ch._join(true);
    for (const f of q) this.eq(f);
  }

  private oc(code: number, reason: string): void {
    this.hs = false;
    this.sd();
    const ws = this.ws;
    if (ws) detach(ws);
    this.ws = null;
    this.kk();
    this.rp(new SignalError(CLIENT_ERROR.CLOSED, `connection closed (${code})`));
    for (const ch of this.channels.values()) ch._onDisconnect();
    if (code === CLOSE.UNAUTHORIZED) {
      const tokenChanged = this.ct !== this.tk.jwt;
      if (tokenChanged && !this.tk.isExpired()) {
        this.ss('reconnecting');
        this.connect();
        return;
      }
      if (this.o.getToken && this.rc()) {
        this.ss('reconnecting');
        this.rf(true);
        return;
      }
      this.fl(SignalError.fromRpc(-32001, `unauthorized: ${reason || 'token refused'}`));
      return;
    }
    if (!this.rc()) {
      this.dq(`connection closed (${code})`);
      this.ss('closed');
      return;
    }
    this.sr();
  }

  private sr(): void {
    if (!this.rc()) {
      this.ss('closed');
      return;
    }
    this.ss('reconnecting');
    this.rt.schedule();
  }

  private fl(err: SignalError): void {
    this.emit('error', err);
    this.dq(err.message);
    this.ss('closed');
  }

  private of(data: unknown): void {
    this.ap(false);
    if (this.hs && this.ws) this.oo(this.ws);
    if (typeof data !== 'string') return; // binary from server: not part of the protocol
    const parsed = parseServerFrame(data);
    try {
      if (parsed.kind === 'notification') this.nt(parsed.note);
      else if (parsed.kind === 'response') {
        const r = parsed.response;
        const p = typeof r.id === 'number' ? this.pd.get(r.id) : undefined;
        if (!p) return;
        this.pd.delete(r.id as number);
        clearTimeout(p.timer);
        if ('error' in r) p.reject(SignalError.fromRpc(r.error.code, r.error.message, p.about));
        else {
          if (p.about.method === METHOD.join) this.ar(r.result);
          p.resolve(r.result);
        }
      }
    } catch (e) {
      this.emit('error', new SignalError(CLIENT_ERROR.PROTOCOL, `bad frame: ${(e as Error).message}`));
    }
  }

  private nt(note: ServerNotification): void {
    const params = note.params as Payload & { from?: unknown; id?: unknown };
    if (note.method === METHOD.error) {
      const p = note.params;
      const ch = typeof p.id === 'string' ? p.id : undefined;
      const err = SignalError.fromRpc(p.code, p.message, {
        ...(p.method === undefined ? {} : { method: p.method }),
        ...(ch === undefined ? {} : { channel: ch }),
      });
      this.emit('error', err);
      return;
    }
    if (typeof params.from !== 'string') return;
    const from = params.from;
    const chName = typeof params.id === 'string' ? params.id : undefined;
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

  private rq(method: string, params: Payload): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.st !== 'open') {
        reject(new SignalError(CLIENT_ERROR.CLOSED, 'not connected', { method }));
        return;
      }
      const id = ++this.sq;
      const timer = setTimeout(() => {
        this.pd.delete(id);
        reject(new SignalError(CLIENT_ERROR.TIMEOUT, `${method} timed out`, { method }));
      }, this.o.requestTimeout);
      const about = typeof params.id === 'string' ? { method, channel: params.id } : { method };
      this.pd.set(id, { resolve, reject, timer, about });
      this.eq({ text: encodeCall(method, params, id) });
    });
  }

  private sn(method: string, params: Payload): void {
    if (this.st !== 'open') return;
    const text = encodeCall(method, params);
    if (!this.tl(method, params, text)) this.eq({ text });
  }

  /** Refuse (and report) a frame the server would close the connection for. */
  private tl(method: string, params: Payload, text: string): boolean {
    const max = this.o.maxFrameBytes;
    if (text.length <= max / 3) return false; // even all 3-byte characters fit
    if (new TextEncoder().encode(text).length <= max) return false;
    this.emit('error', new SignalError(ERROR_CODE[ERROR.TOO_LARGE], `${method} not sent: frame larger than ${max} bytes`, { method, payload: params }));
    return true;
  }

  private sc(method: string, params: Payload): void {
    const text = encodeCall(method, params);
    if (this.tl(method, params, text)) return;
    if (this.st === 'closed' && !this.ws && !this.rt.pending && !this.ft) {
      this.emit('error', new SignalError(CLIENT_ERROR.CLOSED, `${method} not sent: the connection is closed`, { method, payload: params }));
      return;
    }
    if (this.q.length >= this.o.maxQueue) {
      this.emit('error', new SignalError(CLIENT_ERROR.QUEUE_FULL, `${method} not sent: ${this.o.maxQueue} frames already queued`, { method, payload: params }));
      return;
    }
    this.eq({ text, payload: params });
  }

  /** Write now when open, paced and nothing waits; else queue (drained by a timer once open). */
  private eq(item: { text: string; payload?: Payload }): void {
    if (this.st === 'open' && this.q.length === 0 && this.tt()) {
      this.w(item.text);
      return;
    }
    this.q.push(item);
    this.ad();
  }

  /** Pace under the rate the server told (extension of the join reply), unless the user chose a pace. */
  private ar(result: unknown): void {
    if (this.o.rateLimit !== undefined) return;
    const rate = (result as { rate?: { framesPerSecond?: unknown; burst?: unknown } } | null)?.rate;
    if (typeof rate !== 'object' || rate === null) return;
    const { framesPerSecond: fps, burst } = rate;
    if (fps === null) {
      // An unlimited server (Infinity serializes as null).
      this.pc = null;
      this.ad();
      return;
    }
    if (typeof fps !== 'number' || typeof burst !== 'number' || !(fps > 0) || !(burst >= 1)) return;
    const next = fps > 1e6 ? null : { framesPerSecond: fps * 0.9, burst: Math.max(1, Math.floor(burst * 0.9)) };
    if (next && this.pc && next.framesPerSecond === this.pc.framesPerSecond && next.burst === this.pc.burst) return;
    this.pc = next;
    if (next) this.tn = Math.min(this.tn, next.burst);
    if (this.dt !== undefined) {
      clearTimeout(this.dt);
      this.dt = undefined;
    }
    this.ad();
  }

  private tt(cost = 1, force = false): boolean {
    const pace = this.pc;
    if (!pace) return true;
    const now = Date.now();
    this.tn = Math.min(pace.burst, this.tn + ((now - this.ra) * pace.framesPerSecond) / 1000);
    this.ra = now;
    if (this.tn < cost && !force) return false;
    this.tn -= cost;
    return true;
  }

  private ad(): void {
    if (this.dt !== undefined || this.st !== 'open' || this.q.length === 0) return;
    const wait = this.pc ? Math.ceil(((1 - this.tn) * 1000) / this.pc.framesPerSecond) : 0;
    this.dt = setTimeout(() => {
      this.dt = undefined;
      while (this.st === 'open' && this.q.length > 0 && this.tt()) this.w(this.q.shift()!.text);
      this.ad();
    }, Math.max(1, wait));
  }

  /** Stop draining; control frames are dropped (re-issued after a reconnect), user calls stay queued. */
  private sd(): void {
    if (this.dt !== undefined) clearTimeout(this.dt);
    this.dt = undefined;
    if (this.q.some((f) => f.payload === undefined)) this.q = this.q.filter((f) => f.payload !== undefined);
  }

  private w(text: string): void {
    try {
      this.ws?.send(text);
    } catch (e) {
      this.emit('error', new SignalError(CLIENT_ERROR.CONNECTION, `send failed: ${(e as Error).message}`));
    }
  }

  private dq(why: string): void {
    const q = this.q;
    if (q.length === 0) return;
    this.q = [];
    this.emit('error', new SignalError(CLIENT_ERROR.CLOSED, `${q.length} queued frame(s) dropped: ${why}`, { payload: q.map((f) => f.payload) }));
  }

  private rp(err: SignalError): void {
    for (const [id, p] of this.pd) {
      clearTimeout(p.timer);
      this.pd.delete(id);
      p.reject(err);
    }
  }

  private sk(): void {
    this.kk();
    this.pt = setInterval(() => {
      this.tt(1, true); // pings jump the queue but count, as on the server
      this.w(PING);
      this.ap(true);
    }, this.o.pingInterval);
  }

  /** `arm`: start waiting for a sign of life (kept if already waiting: a later ping must not push the deadline); else stop. */
  private ap(arm: boolean): void {
    if (arm && this.po !== undefined) return;
    if (this.po !== undefined) clearTimeout(this.po);
    this.po = undefined;
    if (!arm) return;
    this.po = setTimeout(() => {
      this.po = undefined;
      // Nothing came back: the link is dead (sleeping laptop, cut cable). Drop it and reconnect.
      const ws = this.ws;
      if (!ws) return;
      detach(ws);
      try {
        ws.close(4000, 'keepalive timeout');
      } catch {
        // ignore
      }
      this.oc(1006, 'keepalive timeout');
    }, this.o.pongTimeout);
  }

  private kk(): void {
    if (this.pt !== undefined) clearInterval(this.pt);
    this.pt = undefined;
    this.ap(false);
  }

  private ss(s: ConnectionState): void {
    const prev = this.st;
    if (prev === s) return;
    this.st = s;
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
