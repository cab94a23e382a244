import { CLOSE } from '../protocol/constants.js';
import { exponentialBackoff, Timer, type BackoffOptions, type DelayFor } from './backoff.js';

/** `options.reconnect`: `false` never, backoff settings, or a delay function (attempt -> ms). */
export type ReconnectOption = boolean | BackoffOptions | DelayFor;

/**
 * Reconnect scheduling: a timer that runs `attempt` after a delay growing with the attempt count (reset once a
 * connection opens; by default 1 s doubling to 30 s, full jitter). `null` with `reconnect: false`: never.
 */
export function reconnectTimer(option: ReconnectOption | undefined, attempt: () => void): Timer | null {
  if (option === false) return null;
  return new Timer(attempt, typeof option === 'function' ? option : exponentialBackoff(typeof option === 'object' ? option : {}));
}

/** What to do when the connection closed: redial now, fetch a token first, fail as unauthorized, retry later, or stay closed. */
export type AfterClose = 'redial' | 'fetch-token' | 'unauthorized' | 'retry' | 'close';

/** What the client knows when its connection closes. */
export interface CloseContext {
  /** The token changed since this connection was opened. */
  tokenChanged: boolean;
  /** The current token is expired. */
  tokenExpired: boolean;
  /** A `getToken` was given. */
  canFetch: boolean;
  /** Reconnecting is allowed. */
  mayReconnect: boolean;
}

/**
 * The reconnect policy after a close with `code`. A refused token (4401): reconnect at once when the token changed
 * meanwhile (and is not expired), else fetch one with `getToken` (when reconnecting is allowed), else fail. Any other
 * close: retry after the backoff, unless reconnecting is off; 4403 (the server API's `disconnect`): stay closed.
 */
export function afterClose(code: number, c: CloseContext): AfterClose {
  if (code === CLOSE.UNAUTHORIZED) {
    if (c.tokenChanged && !c.tokenExpired) return 'redial';
    if (c.canFetch && c.mayReconnect) return 'fetch-token';
    return 'unauthorized';
  }
  if (code === CLOSE.DISCONNECTED) return 'close'; // the server's API disconnected us: stay closed
  return c.mayReconnect ? 'retry' : 'close';
}
