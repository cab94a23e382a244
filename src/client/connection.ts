import { CLIENT_ERROR, CLOSE, CLOSE_ABNORMAL, CLOSE_KEEPALIVE, CLOSE_REASON_CLIENT, CLOSE_REASON_KEEPALIVE, ERROR, METHOD, PING } from '../protocol/constants.js';
import { parseServerFrame, type ServerNotification } from '../protocol/frames.js';
import type { AccessToken } from './access-token.js';
import type { Timer } from './backoff.js';
import { SignalError } from './errors.js';
import { Keepalive } from './keepalive.js';
import { initialPace, type Settings } from './options.js';
import { Outbox } from './outbox.js';
import { atRest, hasSocket, IDLE, transition, type Phase, type PhaseEvent } from './phase.js';
import { afterClose, reconnectTimer } from './reconnect.js';
import { Requests } from './requests.js';
import { refreshInPlace, TokenFetch, type FetchOutcome } from './token-refresh.js';
import type { Payload } from './types.js';
import { watchWake } from './wake.js';
import { closeQuietly, detach, openSocket, socketUrl, urlFromToken, webSocketClass, type WebSocketLike } from './websocket.js';

/** The phase of a {@link Connection}. */
export type ConnectionPhase = Phase<WebSocketLike>;

/** What a {@link Connection} needs from its client (the Signal). */
export interface ConnectionHost {
  /** The token to connect with, now (it may change between attempts). */
  readonly token: AccessToken;
  /** Use another AccessToken object (one `getToken` returned). */
  setToken(token: AccessToken): void;
  /** The phase changed (called after it did). */
  changed(prev: ConnectionPhase, next: ConnectionPhase): void;
  /** The connection opened: issue the rejoins now (they go ahead of what waited). */
  opened(): void;
  /** A notification from the server. */
  notify(note: ServerNotification): void;
  /** Report something refused or failed. */
  report(error: SignalError): void;
}

/**
 * The connection, in the manner of Liveblocks' connection machine: one socket at a time, driven through the phases of
 * phase.ts (here, and only here, do they change, each with its side effects next to it), with the parts that live
 * and die with a socket: the outgoing queue, requests, keepalive, reconnect scheduling and token refresh.
 */
export class Connection {
  #phase: ConnectionPhase = IDLE;
  /** Stops listening to the browser's wake hints; set while not closed. */
  #offWake: (() => void) | null = null;
  /** My endpoint address on the last connection (from a join reply), sent as `replaces` when connecting again. */
  #address: string | null = null;
  /** The outgoing queue (user calls go in here). */
  readonly outbox: Outbox;
  readonly #requests: Requests;
  readonly #keepalive: Keepalive;
  /** `null`: never reconnect. */
  readonly #retry: Timer | null;
  readonly #fetch: TokenFetch;
  readonly #opts: Settings;
  readonly #host: ConnectionHost;

  constructor(opts: Settings, host: ConnectionHost) {
    this.#opts = opts;
    this.#host = host;
    const isOpen = (): boolean => this.#phase.name === 'open';
    const link = { isOpen, accepts: () => !atRest(this.#phase), write: (t: string) => this.#write(t), report: (e: SignalError) => host.report(e) };
    this.outbox = new Outbox(link, opts.maxQueue, opts.maxFrameBytes, initialPace(opts.rateLimit));
    this.#requests = new Requests(opts.requestTimeout, (text) => this.outbox.request(text), isOpen);
    this.#keepalive = new Keepalive(opts.pingInterval, opts.pongTimeout, () => this.outbox.urgent(PING), () => this.#onDead());
    this.#retry = reconnectTimer(opts.reconnect, () => this.connect());
    this.#fetch = new TokenFetch(opts.getToken, host);
  }

  get phase(): ConnectionPhase {
    return this.#phase;
  }

  /** Connect, unless a socket is there already. */
  connect(): void {
    if (!hasSocket(this.#phase)) this.#dial();
  }

  /** Close for good (until `connect()`): no timer or socket left behind; what waited is reported. */
  close(): void {
    this.#retry?.cancel();
    const ws = this.#teardown('connection closed');
    if (ws) closeQuietly(ws, CLOSE.NORMAL, CLOSE_REASON_CLIENT);
    this.outbox.drop('connection closed by close()');
    this.#go({ type: 'close', why: 'connection closed by close()', resumable: false }); // a later token update does not reopen it
  }

  /** A request over the open connection (join, refresh). */
  request(method: string, params: Payload): Promise<unknown> {
    return this.#requests.call(method, params, method === METHOD.join ? (r) => this.#onJoined(r) : undefined);
  }

  /** The token is about to expire: fetch a new one with `getToken` (one fetch at a time). */
  refetch(): void {
    this.#fetch.run((outcome: FetchOutcome, why?: string) => {
      // Why none came is reported; that it came expired matters only to a connect waiting for it.
      const waiting = this.#phase.name === 'fetching-token';
      if (why && (waiting || outcome === 'failed')) this.#host.report(new SignalError(CLIENT_ERROR.TOKEN, why));
      if (!waiting) return;
      if (outcome === 'ok') this.connect();
      else this.#retryLater();
    });
  }

  /** A new token: while open, handed to the server in place; while closed because of the token, used to connect now. */
  tokenChanged(): void {
    const p = this.#phase;
    if (p.name === 'open') {
      refreshInPlace(p.jwt, this.#host.token, (method, params) => this.request(method, params))?.then(
        (jwt) => void (jwt && this.#go({ type: 'token-swapped', ws: p.ws, from: p.jwt, to: jwt })),
        (e: SignalError) => this.#host.report(e),
      );
    } else if (p.name === 'closed' && p.resumable && this.#retry) this.connect();
  }

  /** Move to the next phase and tell the host; `false` when the event changed nothing. */
  #go(e: PhaseEvent<WebSocketLike>): boolean {
    const prev = this.#phase;
    const next = transition(prev, e);
    if (next === prev) return false;
    this.#phase = next;
    if (next.name === 'closed') {
      this.#offWake?.(); // a closed client holds no listener on window or document
      this.#offWake = null;
    }
    this.#host.changed(prev, next);
    return true;
  }

  #dial(): void {
    this.#retry?.cancel();
    if (!this.#offWake && this.#opts.wakeEvents !== false) this.#offWake = watchWake(() => this.#onWake());
    const Ctor = webSocketClass(this.#opts.WebSocket);
    if (!Ctor) return this.#fail(new SignalError(CLIENT_ERROR.CONNECTION, 'no WebSocket implementation: pass options.WebSocket (in Node before 22: WebSocket from the ws package)'), false);
    const token = this.#host.token;
    if (token.isExpired() && this.#fetch.enabled) {
      this.#go({ type: 'fetch-token' });
      return this.refetch();
    }
    let url: string;
    try {
      url = this.#opts.url ?? urlFromToken(token);
    } catch (e) {
      return this.#fail(new SignalError(CLIENT_ERROR.TOKEN, (e as Error).message), true);
    }
    const jwt = token.jwt;
    let ws: WebSocketLike;
    try {
      // The socket is up, but a refused token is only told by a 4401 close right after the upgrade. So a `_ping`
      // goes first and the connection counts as open on the first frame back (see phase.ts).
      ws = openSocket(Ctor, socketUrl(url, jwt, this.#address), () => hasSocket(this.#phase) && this.#phase.ws === ws, {
        open: () => this.#go({ type: 'socket-open', ws }) && this.#write(PING),
        frame: (data) => this.#onFrame(ws, data),
        close: (code, reason) => this.#onClose(code, reason),
      });
    } catch (e) {
      this.#host.report(new SignalError(CLIENT_ERROR.CONNECTION, `cannot open WebSocket: ${(e as Error).message}`));
      return this.#retryLater();
    }
    this.#go({ type: 'dial', ws, jwt });
    // The opening handshake and the first frame after it must come within `pongTimeout` too: a link that dies
    // mid-handshake (nothing passes, nothing closes) would otherwise leave the socket connecting for ever.
    this.#keepalive.expect();
  }

  #onFrame(ws: WebSocketLike, data: unknown): void {
    this.#keepalive.alive();
    if (this.#go({ type: 'first-frame', ws })) {
      this.#retry?.reset();
      this.#keepalive.start();
      this.outbox.open(() => this.#host.opened());
    }
    if (typeof data !== 'string') return; // binary from server: not part of the protocol
    const parsed = parseServerFrame(data);
    try {
      if (parsed.kind === 'notification') this.#host.notify(parsed.note);
      else if (parsed.kind === 'response') this.#requests.settle(parsed.response);
    } catch (e) {
      this.#host.report(new SignalError(CLIENT_ERROR.PROTOCOL, `bad frame: ${(e as Error).message}`));
    }
  }

  #onClose(code: number, reason: string): void {
    const p = this.#phase;
    const connected = hasSocket(p) ? p.jwt : null;
    this.#teardown(`connection closed (${code})`);
    const token = this.#host.token;
    const mayReconnect = this.#retry !== null;
    switch (afterClose(code, { tokenChanged: connected !== token.jwt, tokenExpired: token.isExpired(), canFetch: this.#fetch.enabled, mayReconnect })) {
      case 'redial':
        return this.#dial();
      case 'fetch-token':
        this.#go({ type: 'fetch-token' });
        return this.refetch();
      case 'unauthorized':
        return this.#fail(SignalError.fromRpc(ERROR.UNAUTHORIZED, `unauthorized: ${reason || 'token refused'}`), true);
      case 'retry':
        return this.#retryLater();
      case 'close':
        this.outbox.drop(`connection closed (${code})`);
        this.#go({ type: 'close', why: `connection closed (${code})`, resumable: false });
    }
  }

  /** Nothing came back in time: the link is dead (sleeping laptop, cut cable). Drop it and reconnect. */
  #onDead(): void {
    const p = this.#phase;
    if (!hasSocket(p)) return;
    closeQuietly(p.ws, CLOSE_KEEPALIVE, CLOSE_REASON_KEEPALIVE);
    this.#onClose(CLOSE_ABNORMAL, CLOSE_REASON_KEEPALIVE);
  }

  /** The browser says the link may have changed: retry now, or check that the open link still answers. */
  #onWake(): void {
    const p = this.#phase;
    if (p.name === 'backoff') this.connect();
    else if (p.name === 'open' && !this.#keepalive.waiting) this.#keepalive.probe();
  }

  #retryLater(): void {
    const retry = this.#retry;
    if (!retry) return void this.#go({ type: 'close', why: 'connection lost (reconnect: false)', resumable: false });
    this.#go({ type: 'lost' });
    retry.schedule();
  }

  #fail(err: SignalError, resumable: boolean): void {
    this.#host.report(err);
    this.outbox.drop(err.message);
    this.#go({ type: 'close', why: `connection closed: ${err.message}`, resumable });
  }

  /** A join reply tells my endpoint address and (extension) the server's rate, paced under unless the user chose. */
  #onJoined(result: unknown): void {
    const r = result as { address?: unknown; rate?: unknown } | null;
    if (this.#opts.rateLimit === undefined) this.outbox.adopt(r?.rate);
    if (typeof r?.address === 'string') this.#address = r.address;
  }

  #write(text: string): void {
    const p = this.#phase;
    try {
      if (hasSocket(p)) p.ws.send(text);
    } catch (e) {
      this.#host.report(new SignalError(CLIENT_ERROR.CONNECTION, `send failed: ${(e as Error).message}`));
    }
  }

  /** Forget the socket (closed, or about to be) and what hangs on it: timers, control frames, pending requests. */
  #teardown(why: string): WebSocketLike | null {
    const p = this.#phase;
    const ws = hasSocket(p) ? p.ws : null;
    if (ws) detach(ws);
    this.outbox.pause();
    this.#keepalive.stop();
    this.#requests.rejectAll(new SignalError(CLIENT_ERROR.CLOSED, why));
    return ws;
  }
}
