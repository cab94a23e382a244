import { JWT_PARAM, PATHS, REPLACES_PARAM } from '../protocol/constants.js';
import type { AccessToken } from './access-token.js';

/**
 * An event handler slot. Declared with method syntax, so a slot typed with a richer event (the DOM's `MessageEvent`,
 * `ws`'s `WebSocket.MessageEvent`) still fits: the client only reads the fields named here.
 */
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

/** The part of the WebSocket API the client uses: the browser's `WebSocket`, `ws`'s and the in-page server's all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}
/** A WebSocket constructor (`options.WebSocket`): `globalThis.WebSocket`, or `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The constructor to use: the one given, else the platform's; `undefined` when there is none (Node before 22 without `ws`). */
export function webSocketClass(given: WebSocketConstructor | undefined): WebSocketConstructor | undefined {
  return given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** Build the WebSocket URL from a token's `aud` (an `http(s)://` base becomes `ws(s)://`). */
export function urlFromToken(token: AccessToken): string {
  const aud = token.audience;
  if (!aud) throw new TypeError('the token has no aud claim; pass options.url');
  const base = aud.replace(/^http/, 'ws').replace(/\/+$/, '');
  return base + PATHS[/\/v1$/.test(base) ? 1 : 0];
}

/**
 * The URL to open: `url` plus the token and, after a first connection, `replaces` (extension): my previous endpoint,
 * which the server may still hold open (a half-open socket after a network change); it closes it, so my old self
 * leaves presence now, not after its dead-peer timeout.
 */
export function socketUrl(url: string, jwt: string, replaces: string | null): string {
  const prev = replaces ? `&${REPLACES_PARAM}=${encodeURIComponent(replaces)}` : '';
  return `${url}${url.includes('?') ? '&' : '?'}${JWT_PARAM}=${encodeURIComponent(jwt)}${prev}`;
}

/** An `onerror` that does nothing (the 'close' that follows tells); Node's `ws` throws on an 'error' nobody listens to. */
const ignore = (): void => {};

/**
 * Open a socket and wire its events: it opened, a frame came, it closed. They are told only while `current()`
 * (a replaced socket's late ones never are).
 */
export function openSocket(
  Ctor: WebSocketConstructor,
  url: string,
  current: () => boolean,
  opened: () => void,
  frame: (data: unknown) => void,
  closed: (code: number, reason: string) => void,
): WebSocketLike {
  const ws = new Ctor(url);
  ws.onopen = () => {
    if (current()) opened();
  };
  ws.onmessage = (ev) => {
    if (current()) frame(ev.data);
  };
  ws.onclose = (ev) => {
    if (current()) closed(ev.code, ev.reason);
  };
  ws.onerror = ignore;
  return ws;
}

/** Drop the client's handlers (keeping a no-op `onerror`). */
export function detach(ws: WebSocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = null;
  ws.onerror = ignore;
}

/** Detach, then close; a socket that throws on close is closed already. */
export function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  detach(ws);
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
