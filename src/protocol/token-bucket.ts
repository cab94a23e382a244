/**
 * A token bucket: `burst` tokens at most, refilled at `perSecond`. Pure (the clock is passed in), so the client's
 * pacing and the server's rate limit can share it; `refill` is the arithmetic alone, for a caller that keeps the
 * level in its own fields (one object fewer per connection).
 */

/** The level after `elapsedMs`: `level` refilled at `perSecond`, never above `burst`. */
export function refill(level: number, elapsedMs: number, perSecond: number, burst: number): number {
  return Math.min(burst, level + (Math.max(0, elapsedMs) * perSecond) / 1000);
}

/** A token bucket on an injectable clock (ms). Starts full. */
export class TokenBucket {
  /** Tokens added per second. */
  perSecond: number;
  /** Most tokens held. */
  burst: number;
  #level: number;
  #at: number;
  readonly #now: () => number;

  constructor(perSecond: number, burst: number, now: () => number = () => Date.now()) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.#now = now;
    this.#level = burst;
    this.#at = now();
  }

  /** Take `cost` tokens when there are enough; `force` takes them anyway (the level may go negative). */
  take(cost = 1, force = false): boolean {
    const level = this.#refill();
    if (level < cost && !force) return false;
    this.#level = level - cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are there (0: now). */
  wait(cost = 1): number {
    return Math.max(0, Math.ceil(((cost - this.#refill()) * 1000) / this.perSecond));
  }

  /** Back to full. */
  fill(): void {
    this.#level = this.burst;
    this.#at = this.#now();
  }

  /** Change the rate; the level is kept, but never above the new burst. */
  setRate(perSecond: number, burst: number): void {
    this.#refill();
    this.perSecond = perSecond;
    this.burst = burst;
    this.#level = Math.min(this.#level, burst);
  }

  /** Refill up to now; the level. */
  #refill(): number {
    const now = this.#now();
    this.#level = refill(this.#level, now - this.#at, this.perSecond, this.burst);
    this.#at = now;
    return this.#level;
  }
}
