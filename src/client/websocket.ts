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
  return /\/v1$/.test(base) ? `${base}${PATHS[1]}` : `${base}${PATHS[0]}`;
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

/** What a socket tells the client, while it is the current one. */
export interface SocketEvents {
  open(): void;
  frame(data: unknown): void;
  close(code: number, reason: string): void;
}

/** Open a socket and wire its events; they reach `on` only while `current()` (a replaced socket's late ones never do). */
export function openSocket(Ctor: WebSocketConstructor, url: string, current: () => boolean, on: SocketEvents): WebSocketLike {
  const ws = new Ctor(url);
  ws.onopen = () => {
    if (current()) on.open();
  };
  ws.onmessage = (ev) => {
    if (current()) on.frame(ev.data);
  };
  ws.onclose = (ev) => {
    if (current()) on.close(ev.code, ev.reason);
  };
  ws.onerror = () => {}; // 'close' follows
  return ws;
}

/** Drop the client's handlers (keeping a no-op `onerror`: Node's `ws` throws on an 'error' nobody listens to). */
export function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {};
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
