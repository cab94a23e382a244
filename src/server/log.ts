/**
 * Logging of the server: the pino-compatible {@link Logger} it takes, and the sampling that keeps one connection's
 * repeated refusals from flooding the log. What is logged never holds a token, a secret or a payload: only
 * addresses, close codes, error codes, methods, channel names and counts.
 */

/** One log method, as pino's: a merging object, then the message. */
export type LogFn = (obj: object, msg?: string) => void;

/** A pino-compatible logger (a pino instance fits; so does any object with these methods). */
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

/** Refusals of one connection logged one by one in each window; the rest are counted and summed up. */
export const REFUSALS_LOGGED = 5;
/** The sampling window of refusals, per connection. */
export const REFUSAL_WINDOW_MS = 10_000;

/** Refusal sampling state of one connection. */
interface Sample {
  windowStart: number;
  /** Refusals in the window so far. */
  inWindow: number;
  /** Refusals not logged one by one since the last summary. */
  suppressed: number;
  /** Every refusal of the connection. */
  total: number;
}

/**
 * Per-connection refusal sampling: the first {@link REFUSALS_LOGGED} refusals of each {@link REFUSAL_WINDOW_MS}
 * window are logged one by one; past them one `refusals suppressed` summary per window (written by the first refusal
 * of the next window, or in the connection's closed line). Keyed weakly by the connection: nothing outlives it.
 */
export class RefusalSampler<K extends object> {
  private readonly samples = new WeakMap<K, Sample>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * One refusal of `key`: `log` when it is to be logged; `summary` (the count left out in the window that ended) when
   * a summary line is due first.
   */
  take(key: K): { log: boolean; summary: number } {
    const now = this.now();
    let s = this.samples.get(key);
    if (!s) this.samples.set(key, (s = { windowStart: now, inWindow: 0, suppressed: 0, total: 0 }));
    s.total++;
    let summary = 0;
    if (now - s.windowStart >= REFUSAL_WINDOW_MS) {
      summary = s.suppressed;
      s.suppressed = 0;
      s.windowStart = now;
      s.inWindow = 0;
    }
    if (s.inWindow++ < REFUSALS_LOGGED) return { log: true, summary };
    s.suppressed++;
    return { log: false, summary };
  }

  /** Totals of a connection that ends: refusals, and those never logged one by one nor summed up yet. */
  end(key: K): { refusals: number; suppressed: number } {
    const s = this.samples.get(key);
    if (!s) return { refusals: 0, suppressed: 0 };
    this.samples.delete(key);
    return { refusals: s.total, suppressed: s.suppressed };
  }
}
