/**
 * Token expiries of open connections: each connection is filed under the whole second its token expires (ceil of
 * `exp`), and one timer for all of them checks the due seconds once a second, running only while any is filed.
 * The core closes what expires with 4401 `token expired`; a `signal.refresh` files the connection anew.
 */

/** What can expire: `exp` is kept on the item itself (ms since the epoch, 0 when none). `Session` is one. */
export interface Expiring {
  exp: number;
}

export class Expiries<T extends Expiring> {
  /** Whole second (ceil of `exp`) -> the items expiring in it. */
  private readonly buckets = new Map<number, Set<T>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(
    private readonly now: () => number,
    /** Called once for each item whose `exp` has passed (its `exp` is 0 by then). */
    private readonly onExpire: (item: T) => void,
  ) {}

  /** File `item` under `exp` (seconds since the epoch; anything but a finite number: none), replacing any earlier one. */
  set(item: T, exp: unknown): void {
    if (item.exp !== 0) {
      const key = Math.ceil(item.exp / 1000);
      const set = this.buckets.get(key);
      if (set?.delete(item) && set.size === 0) this.buckets.delete(key);
      item.exp = 0;
    }
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return;
    item.exp = exp * 1000;
    const key = Math.ceil(exp);
    let set = this.buckets.get(key);
    if (!set) this.buckets.set(key, (set = new Set()));
    set.add(item);
    if (this.timer === null && !this.stopped) {
      this.timer = setInterval(() => this.expire(), 1000);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Items filed (for tests and stats). */
  get size(): number {
    let n = 0;
    for (const set of this.buckets.values()) n += set.size;
    return n;
  }

  /** Whether the timer runs. */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Stop the timer for good (shutdown): items may still be filed, none expires any more. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Hand every item whose `exp` has passed to `onExpire`; stop the timer when none is left. */
  private expire(): void {
    const now = this.now();
    for (const [key, set] of this.buckets) {
      if (key * 1000 > now + 1000) continue;
      for (const item of [...set]) {
        if (item.exp > now) continue; // a fraction of a second left
        set.delete(item);
        item.exp = 0;
        this.onExpire(item);
      }
      if (set.size === 0) this.buckets.delete(key);
    }
    if (this.buckets.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
