import { CLIENT_ERROR, CLOSE, CLOSE_ABNORMAL, CLOSE_KEEPALIVE, CLOSE_REASON_CLIENT, CLOSE_REASON_KEEPALIVE, ERROR, METHOD, PING } from '../protocol/constants.js';
import { parseServerFrame, type ServerNotification } from '../protocol/frames.js';
import type { AccessToken } from './access-token.js';
import { SignalError } from './errors.js';
import { keepalive } from './keepalive.js';
import { initialPace, type Settings } from './options.js';
import { outbox as makeOutbox, type Outbox } from './outbox.js';
import { atRest, hasSocket, IDLE, transition, type Phase, type PhaseEvent } from './phase.js';
import { afterClose, reconnectTimer } from './reconnect.js';
import { Requests } from './requests.js';
import { refreshInPlace, TokenFetch, watchToken, type FetchOutcome, type TokenHolder } from './token-refresh.js';
import type { Payload } from './types.js';
import { watchWake } from './wake.js';
import { closeQuietly, detach, openSocket, socketUrl, urlFromToken, webSocketClass, type WebSocketLike } from './websocket.js';

/** The phase of a {@link Connection}. */
export type ConnectionPhase = Phase<WebSocketLike>;

/** A connection, as its client (the Signal) drives it. */
export interface Connection {
  /** Where it is (see phase.ts). */
  readonly phase: ConnectionPhase;
  /** The outgoing queue (user calls go in here). */
  readonly outbox: Outbox;
  /** Connect, unless a socket is there already. */
  connect(): void;
  /** Close for good (until `connect()`): no timer or socket left behind; what waited is reported. */
  close(): void;
  /** A request over the open connection (join, refresh). */
  request(method: string, params: Payload): Promise<unknown>;
  /**
   * Follow a token: on `expired` fetch a new one with `getToken` (one fetch at a time), on `updated` use it (see
   * `tokenChanged`). Returns the function that stops following.
   */
  watch(token: AccessToken): () => void;
  /** A new token: while open, handed to the server in place; while closed because of the token, used to connect now. */
  tokenChanged(): void;
}

/**
 * The connection, in the manner of Liveblocks' connection machine: one socket at a time, driven through the phases of
 * phase.ts (here, and only here, do they change, each with its side effects next to it), with the parts that live
 * and die with a socket: the outgoing queue, requests, keepalive, reconnect scheduling and token refresh.
 *
 * What it tells its client: `changed` after each phase change; `opened` when the connection opened (issue the
 * rejoins now: they go ahead of what waited); `notify` each notification from the server; `report` what was
 * refused or failed. `holder` has the token to connect with, now (it may change between attempts), and takes the
 * one `getToken` returned.
 */
export function connection(
  opts: Settings,
  holder: TokenHolder,
  changed: (prev: ConnectionPhase, next: ConnectionPhase) => void,
  opened: () => void,
  notify: (note: ServerNotification) => void,
  report: (error: SignalError) => void,
): Connection {
  let phase: ConnectionPhase = IDLE;
  /** Stops listening to the browser's wake hints; set while not closed. */
  let offWake: (() => void) | undefined;
  /** My endpoint address on the last connection (from a join reply), sent as `replaces` when connecting again. */
  let address: string | null = null;
  const isOpen = (): boolean => phase.name === 'open';
  const outbox = makeOutbox({ isOpen, accepts: () => !atRest(phase), write, report }, opts.maxQueue, opts.maxFrameBytes, initialPace(opts.rateLimit));
  const requests = new Requests(opts.requestTimeout, (text) => outbox.request(text), isOpen);
  const alive = keepalive(opts.pingInterval, opts.pongTimeout, () => outbox.urgent(PING), onDead);
  /** `null`: never reconnect. */
  const retry = reconnectTimer(opts.reconnect, connect);
  const fetch = new TokenFetch(opts.getToken, holder);

  function connect(): void {
    if (!hasSocket(phase)) dial();
  }

  /** Move to the next phase and tell; `false` when the event changed nothing. */
  function go(e: PhaseEvent<WebSocketLike>): boolean {
    const prev = phase;
    const next = transition(prev, e);
    if (next === prev) return false;
    phase = next;
    if (next.name === 'closed') {
      offWake?.(); // a closed client holds no listener on window or document
      offWake = undefined;
    }
    changed(prev, next);
    return true;
  }

  /** Closed for good (until `connect()`); `resumable`: a new token reconnects. */
  function shut(why: string, resumable = false): void {
    go({ type: 'close', why, resumable });
  }

  function refetch(): void {
    fetch.run((outcome: FetchOutcome, why?: string) => {
      // Why none came is reported; that it came expired matters only to a connect waiting for it.
      const waiting = phase.name === 'fetching-token';
      if (why && (waiting || outcome === 'failed')) report(new SignalError(CLIENT_ERROR.TOKEN, why));
      if (waiting) {
        if (outcome === 'ok') connect();
        else retryLater();
      }
    });
  }

  /** Wait for `getToken` before connecting. */
  function fetchFirst(): void {
    go({ type: 'fetch-token' });
    refetch();
  }

  function dial(): void {
    retry?.cancel();
    if (!offWake && opts.wakeEvents !== false) offWake = watchWake(onWake);
    const Ctor = webSocketClass(opts.WebSocket);
    if (!Ctor) return fail(new SignalError(CLIENT_ERROR.CONNECTION, 'no WebSocket implementation: pass options.WebSocket (in Node < 22: the ws package)'), false);
    const token = holder.token;
    if (token.isExpired() && fetch.enabled) return fetchFirst();
    let url: string;
    try {
      url = opts.url ?? urlFromToken(token);
    } catch (e) {
      return fail(new SignalError(CLIENT_ERROR.TOKEN, (e as Error).message), true);
    }
    const jwt = token.jwt;
    let ws: WebSocketLike;
    try {
      // The socket is up, but a refused token is only told by a 4401 close right after the upgrade. So a `_ping`
      // goes first and the connection counts as open on the first frame back (see phase.ts).
      ws = openSocket(
        Ctor,
        socketUrl(url, jwt, address),
        () => hasSocket(phase) && phase.ws === ws,
        () => go({ type: 'socket-open', ws }) && write(PING),
        (data) => onFrame(ws, data),
        onClose,
      );
    } catch (e) {
      report(new SignalError(CLIENT_ERROR.CONNECTION, `cannot open WebSocket: ${(e as Error).message}`));
      return retryLater();
    }
    go({ type: 'dial', ws, jwt });
    // The opening handshake and the first frame after it must come within `pongTimeout` too: a link that dies
    // mid-handshake (nothing passes, nothing closes) would otherwise leave the socket connecting for ever.
    alive.expect();
  }

  function onFrame(ws: WebSocketLike, data: unknown): void {
    alive.alive();
    if (go({ type: 'first-frame', ws })) {
      retry?.reset();
      alive.start();
      outbox.open(opened);
    }
    if (typeof data !== 'string') return; // binary from server: not part of the protocol
    const parsed = parseServerFrame(data);
    try {
      if (parsed.kind === 'notification') {
        const { method, params } = parsed.note;
        // A batch join (extension) tells my address before its reply: named in `replaces` even if the reply never comes.
        if (method === METHOD.presence && typeof params.self === 'string') address = params.self;
        notify(parsed.note);
      } else if (parsed.kind === 'response') requests.settle(parsed.response);
    } catch (e) {
      report(new SignalError(CLIENT_ERROR.PROTOCOL, `bad frame: ${(e as Error).message}`));
    }
  }

  function onClose(code: number, reason: string): void {
    const why = `connection closed (${code})`;
    const connected = hasSocket(phase) ? phase.jwt : null;
    teardown(why);
    const token = holder.token;
    const mayReconnect = retry !== null;
    switch (afterClose(code, { tokenChanged: connected !== token.jwt, tokenExpired: token.isExpired(), canFetch: fetch.enabled, mayReconnect })) {
      case 'redial':
        return dial();
      case 'fetch-token':
        return fetchFirst();
      case 'unauthorized':
        return fail(SignalError.fromRpc(ERROR.UNAUTHORIZED, `unauthorized: ${reason || 'token refused'}`), true);
      case 'retry':
        // 1012: the server process drains before a restart; come back soon (the backoff's first, jittered step).
        if (code === CLOSE.SERVICE_RESTART) retry?.reset();
        return retryLater();
      case 'close':
        outbox.drop(why);
        shut(why);
    }
  }

  /** Nothing came back in time: the link is dead (sleeping laptop, cut cable). Drop it and reconnect. */
  function onDead(): void {
    if (!hasSocket(phase)) return;
    closeQuietly(phase.ws, CLOSE_KEEPALIVE, CLOSE_REASON_KEEPALIVE);
    onClose(CLOSE_ABNORMAL, CLOSE_REASON_KEEPALIVE);
  }

  /** The browser says the link may have changed: retry now, or check that the open link still answers. */
  function onWake(): void {
    if (phase.name === 'backoff') connect();
    else if (phase.name === 'open' && !alive.waiting) alive.probe();
  }

  function retryLater(): void {
    if (!retry) return shut('connection lost (reconnect: false)');
    go({ type: 'lost' });
    retry.schedule();
  }

  function fail(err: SignalError, resumable: boolean): void {
    report(err);
    outbox.drop(err.message);
    shut(`connection closed: ${err.message}`, resumable);
  }

  /** A join reply tells my endpoint address and (extension) the server's rate, paced under unless the user chose. */
  function onJoined(result: unknown): void {
    const r = result as { address?: unknown; rate?: unknown } | null;
    if (opts.rateLimit === undefined) outbox.adopt(r?.rate);
    if (typeof r?.address === 'string') address = r.address;
  }

  function write(text: string): void {
    try {
      if (hasSocket(phase)) phase.ws.send(text);
    } catch (e) {
      report(new SignalError(CLIENT_ERROR.CONNECTION, `send failed: ${(e as Error).message}`));
    }
  }

  /** Forget the socket (closed, or about to be) and what hangs on it: timers, control frames, pending requests. */
  function teardown(why: string): WebSocketLike | null {
    const ws = hasSocket(phase) ? phase.ws : null;
    if (ws) detach(ws);
    outbox.pause();
    alive.stop();
    requests.rejectAll(new SignalError(CLIENT_ERROR.CLOSED, why));
    return ws;
  }

  function request(method: string, params: Payload): Promise<unknown> {
    return requests.call(method, params, method === METHOD.join ? onJoined : undefined);
  }

  /** A new token: while open, handed to the server in place; while closed because of the token, used to connect now. */
  function tokenChanged(): void {
    const p = phase;
    if (p.name === 'open') {
      refreshInPlace(p.jwt, holder.token, request)?.then(
        (jwt) => void (jwt && go({ type: 'token-swapped', ws: p.ws, from: p.jwt, to: jwt })),
        report,
      );
    } else if (p.name === 'closed' && p.resumable && retry) connect();
  }

  return {
    get phase() {
      return phase;
    },
    outbox,
    connect,
    close() {
      const why = 'connection closed by close()';
      retry?.cancel();
      const ws = teardown('connection closed');
      if (ws) closeQuietly(ws, CLOSE.NORMAL, CLOSE_REASON_CLIENT);
      outbox.drop(why);
      shut(why); // a later token update does not reopen it
    },
    request,
    watch: (token) => watchToken(token, refetch, tokenChanged),
    tokenChanged,
  };
}
