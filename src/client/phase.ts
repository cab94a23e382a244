import type { ConnectionState } from './types.js';

/**
 * Where the connection is, as one value (in the manner of Liveblocks' connection machine): the socket and the
 * token it was opened with exist only in the phases that have them, so no flag can contradict another. `again`:
 * this attempt follows a lost connection (the public state says `reconnecting`, not `connecting`).
 *
 * - `idle`: never connected (`autoConnect: false`).
 * - `fetching-token`: waiting for `getToken` before connecting (the token is expired, or was refused).
 * - `connecting`: the socket is opening.
 * - `handshaking`: the socket opened and a `_ping` went out; the first frame back makes it `open` (a refused token is
 *   told only by a 4401 close right after the upgrade, so nothing is sent before).
 * - `open`: frames flow; `jwt` is the token the server holds for this connection (swapped in place by `signal.refresh`).
 * - `backoff`: waiting out the reconnect delay.
 * - `closed`: by `close()`, or for good after a failure; `why` says which (joins waiting are refused with it);
 *   `resumable`: a new token reconnects (the token was the problem).
 */
export type Phase<W = unknown> =
  | { readonly name: 'idle' }
  | { readonly name: 'fetching-token'; readonly again: boolean }
  | { readonly name: 'connecting'; readonly again: boolean; readonly ws: W; readonly jwt: string }
  | { readonly name: 'handshaking'; readonly again: boolean; readonly ws: W; readonly jwt: string }
  | { readonly name: 'open'; readonly ws: W; readonly jwt: string }
  | { readonly name: 'backoff' }
  | { readonly name: 'closed'; readonly why: string; readonly resumable: boolean };

/** What moves the connection from one phase to the next. */
export type PhaseEvent<W = unknown> =
  /** Wait for `getToken` before connecting. */
  | { readonly type: 'fetch-token' }
  /** A socket was made with `jwt`. */
  | { readonly type: 'dial'; readonly ws: W; readonly jwt: string }
  /** That socket opened. */
  | { readonly type: 'socket-open'; readonly ws: W }
  /** The first frame came back on it. */
  | { readonly type: 'first-frame'; readonly ws: W }
  /** The server took a new token on the open connection. */
  | { readonly type: 'token-swapped'; readonly ws: W; readonly from: string; readonly to: string }
  /** The connection or the attempt was lost (or could not be made): retry after a delay. */
  | { readonly type: 'lost' }
  /** Closed for good (until `connect()`). */
  | { readonly type: 'close'; readonly why: string; readonly resumable: boolean };

/** The initial phase. */
export const IDLE: Phase<never> = { name: 'idle' };

/** Whether the phase holds a socket (`connecting`, `handshaking`, `open`: then `connect()` has nothing to do). */
export function hasSocket<W>(p: Phase<W>): p is Extract<Phase<W>, { ws: W }> {
  return 'ws' in p;
}

/** Not connected and not trying to (`idle`, `closed`): a call is refused rather than queued. */
export function atRest<W>(p: Phase<W>): p is Extract<Phase<W>, { name: 'idle' | 'closed' }> {
  return p.name === 'idle' || p.name === 'closed';
}

/**
 * Whether an attempt made from phase `p` is a re-connection: after an open or lost connection (connecting,
 * handshaking, open: that socket is gone, this is a new one; backoff), not from rest; a token fetch tells its own.
 */
function again(p: Phase<unknown>): boolean {
  return p.name === 'fetching-token' ? p.again : !atRest(p);
}

/**
 * The next phase; the same object when the event does not apply (a late callback of a socket that is not the
 * current one, a swap for a token no longer held), so callers can tell that nothing happened.
 */
export function transition<W>(p: Phase<W>, e: PhaseEvent<W>): Phase<W> {
  switch (e.type) {
    case 'fetch-token':
      return p.name === 'fetching-token' ? p : { name: 'fetching-token', again: again(p) };
    case 'dial':
      return { name: 'connecting', again: again(p), ws: e.ws, jwt: e.jwt };
    case 'socket-open':
      return p.name === 'connecting' && p.ws === e.ws ? { ...p, name: 'handshaking' } : p;
    case 'first-frame':
      return p.name === 'handshaking' && p.ws === e.ws ? { name: 'open', ws: p.ws, jwt: p.jwt } : p;
    case 'token-swapped':
      return p.name === 'open' && p.ws === e.ws && p.jwt === e.from ? { ...p, jwt: e.to } : p;
    case 'lost':
      return p.name === 'backoff' ? p : { name: 'backoff' };
    case 'close':
      return { name: 'closed', why: e.why, resumable: e.resumable };
  }
}

/** The public connection state of a phase. */
export function connectionState(p: Phase<unknown>): ConnectionState {
  return atRest(p) ? 'closed' : p.name === 'open' ? 'open' : p.name === 'backoff' || p.again ? 'reconnecting' : 'connecting';
}
