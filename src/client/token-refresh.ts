import { CLIENT_ERROR, ERROR, METHOD } from '../protocol/constants.js';
import { AccessToken, decodeClaims } from './access-token.js';
import type { SignalError } from './errors.js';
import type { Payload } from './types.js';

/** How a token fetch ended: a usable token is in place, the one that came is expired already, or none came. */
export type FetchOutcome = 'ok' | 'expired' | 'failed';

/** What a {@link TokenFetch} works on (the Signal). */
export interface TokenHolder {
  /** The token in use. */
  readonly token: AccessToken;
  /** Use another AccessToken object. */
  setToken(token: AccessToken): void;
}

/**
 * `options.getToken`, one call at a time: the token it resolves with replaces the current one (a JWT string
 * through `token.update()`, an AccessToken through `setToken()`); a failure or a malformed token comes to `done`
 * with why, never thrown from a callback.
 */
export class TokenFetch {
  #running = false;
  readonly #getToken: (() => Promise<string | AccessToken>) | undefined;
  readonly #holder: TokenHolder;

  constructor(getToken: (() => Promise<string | AccessToken>) | undefined, holder: TokenHolder) {
    this.#getToken = getToken;
    this.#holder = holder;
  }

  /** A `getToken` was given. */
  get enabled(): boolean {
    return this.#getToken !== undefined;
  }

  /**
   * Fetch and apply, then call `done` (with why when no usable token came). `false` (and no call) when there is no
   * `getToken` or a fetch runs already.
   */
  run(done: (outcome: FetchOutcome, why?: string) => void): boolean {
    const get = this.#getToken;
    const holder = this.#holder;
    if (!get || this.#running) return false;
    this.#running = true;
    const failed = (why: string): void => done('failed', why);
    let p: Promise<string | AccessToken>;
    try {
      p = Promise.resolve(get());
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (t) => {
        this.#running = false;
        try {
          if (typeof t === 'string') holder.token.update(t);
          else if (t instanceof AccessToken) {
            if (t !== holder.token) holder.setToken(t);
          } else throw new TypeError('getToken must resolve to a JWT string or an AccessToken');
        } catch (e) {
          return failed(`getToken returned a bad token: ${(e as Error).message}`);
        }
        if (holder.token.isExpired()) done('expired', 'getToken returned an expired token');
        else done('ok');
      },
      (e: unknown) => {
        this.#running = false;
        failed(`getToken failed: ${(e as Error)?.message ?? String(e)}`);
      },
    );
    return true;
  }
}

/** Listen to a token: `expired` (fetch a new one) and `updated` (use it). Returns the function that stops listening. */
export function watchToken(token: AccessToken, expired: () => void, updated: () => void): () => void {
  const offExpired = token.on('expired', expired);
  const offUpdated = token.on('updated', updated);
  return () => {
    offExpired();
    offUpdated();
  };
}

/** Whether `jwt` is a token for the same `identity/device` as `token` (so the open connection may take the new one). */
export function sameSubject(jwt: string, token: AccessToken): boolean {
  try {
    // `token.claims.sub` is a well-formed `identity/device` (AccessToken checked it), so the same string is the same subject.
    return decodeClaims(jwt).sub === token.claims.sub;
  } catch {
    return false; // not a token we can read: leave it to the next connect
  }
}

/**
 * Hand `token` to the server on the open connection (`signal.refresh`, extension), so the connection outlives the
 * old token's `exp` with no reconnect; `connected` is the token the connection holds now. `null` when there is
 * nothing to hand over (the same token, an expired one, or one for another identity or device: the next connect
 * uses it). Resolves with the new JWT once the server took it, or `null` when it could not and nothing needs
 * reporting: a server without the extension (-32601) closes at the old `exp` with 4401 and the client reconnects
 * with the new token; a connection that went meanwhile reconnects with it. Any other refusal rejects.
 */
export function refreshInPlace(
  connected: string,
  token: AccessToken,
  request: (method: string, params: Payload) => Promise<unknown>,
): Promise<string | null> | null {
  const jwt = token.jwt;
  if (jwt === connected || token.isExpired() || !sameSubject(connected, token)) return null;
  return request(METHOD.refresh, { jwt }).then(
    () => jwt,
    (e: SignalError) => {
      if (e.rpcCode === ERROR.METHOD_NOT_FOUND || e.code === CLIENT_ERROR.CLOSED) return null;
      throw e;
    },
  );
}
