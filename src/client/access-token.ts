import { parseSubject } from '../protocol/address.js';
import { EXPIRY_MARGIN_MS, MAX_TIMER_DELAY } from '../protocol/constants.js';
import { Emitter } from './emitter.js';

/** Events of an {@link AccessToken}. */
export type AccessTokenEvents = {
  /** Fired {@link EXPIRY_MARGIN_MS} before `exp`. */
  expired: [];
  /** Fired by `update()` with the new token. */
  updated: [AccessToken];
};

/** How long before `exp` the `expired` event fires. */
export { EXPIRY_MARGIN_MS };

/** @internal The claims of a JWT, unverified; throws a `TypeError` on a malformed one. No side effect. */
export function decodeClaims(jwt: string): Record<string, unknown> {
  const part = typeof jwt === 'string' ? jwt.split('.')[1] : undefined;
  if (!part) throw new TypeError('AccessToken: not a JWT (header.payload.signature)');
  try {
    // base64url to base64; atob takes it unpadded (forgiving-base64).
    const bin = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('not an object');
    return claims as Record<string, unknown>;
  } catch (e) {
    throw new TypeError(`AccessToken: cannot read the JWT payload (${(e as Error).message})`);
  }
}

/**
 * An access token (SDK semantics): parses `claims`, `identity` and `device` from `sub`, emits
 * `expired` 10 s before `exp`, and `update(jwt)` swaps it (the next connect uses the new one).
 * The signature is not checked here; the server does that.
 */
export class AccessToken extends Emitter<AccessTokenEvents> {
  #jwt = '';
  #claims: Record<string, unknown> = {};
  #identity = '';
  #device = '';
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(jwt: string) {
    super();
    this.#apply(jwt);
  }

  /** The raw JWT. */
  get jwt(): string {
    return this.#jwt;
  }
  get claims(): Readonly<Record<string, unknown>> {
    return this.#claims;
  }
  get identity(): string {
    return this.#identity;
  }
  get device(): string {
    return this.#device;
  }
  /** `exp` in ms since the epoch, if the token has one. */
  get expiresAt(): number | undefined {
    return typeof this.#claims.exp === 'number' ? this.#claims.exp * 1000 : undefined;
  }
  /** The `aud` claim (the server's base URL), first one when it is a list. */
  get audience(): string | undefined {
    const aud = this.#claims.aud;
    return typeof aud === 'string' ? aud : Array.isArray(aud) && typeof aud[0] === 'string' ? aud[0] : undefined;
  }
  /** Whether `exp` has passed (or is within `marginMs`). */
  isExpired(marginMs = 0, now = Date.now()): boolean {
    const at = this.expiresAt;
    return at !== undefined && at - marginMs <= now;
  }

  /** Replace the token; emits `updated`. Throws `TypeError` on a malformed JWT. */
  update(jwt: string): void {
    this.#apply(jwt);
    this.emit('updated', this);
  }

  /** Stop the expiry timer. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Take `jwt` and (re)arm the expiry timer. */
  #apply(jwt: string): void {
    const claims = decodeClaims(jwt);
    const sub = parseSubject(claims.sub);
    if (!sub) throw new TypeError('AccessToken: sub must be "identity/device"');
    this.#jwt = jwt;
    this.#claims = claims;
    this.#identity = sub.identity;
    this.#device = sub.device;
    this.dispose();
    const at = this.expiresAt;
    if (at === undefined) return;
    const left = (): number => at - EXPIRY_MARGIN_MS - Date.now();
    // Wait in steps of at most MAX_TIMER_DELAY (a longer delay would fire at once), then emit.
    const arm = (): void => {
      this.#timer = setTimeout(() => {
        if (left() > 0) return arm();
        this.#timer = undefined;
        this.emit('expired');
      }, Math.max(0, Math.min(left(), MAX_TIMER_DELAY)));
      (this.#timer as { unref?: () => void }).unref?.();
    };
    arm();
  }
}
