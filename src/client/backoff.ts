import { DEFAULT_BACKOFF_FACTOR, DEFAULT_INITIAL_DELAY, DEFAULT_MAX_DELAY, MAX_BACKOFF_EXPONENT } from '../protocol/constants.js';

/** Reconnect backoff settings. */
export interface BackoffOptions {
  /** First delay cap in ms. @default 1000 */
  initialDelay?: number;
  /** Largest delay in ms. @default 30000 */
  maxDelay?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Full jitter: a uniformly random delay in [0, cap]. @default true */
  jitter?: boolean;
}

/** A delay function: attempt (0-based) -> ms. */
export type DelayFor = (attempt: number) => number;

/** Exponential backoff with full jitter (AWS style); the default is 1 s doubling to 30 s. */
export function exponentialBackoff(opts: BackoffOptions = {}, random: () => number = Math.random): DelayFor {
  const initial = opts.initialDelay ?? DEFAULT_INITIAL_DELAY;
  const max = opts.maxDelay ?? DEFAULT_MAX_DELAY;
  const factor = opts.factor ?? DEFAULT_BACKOFF_FACTOR;
  const jitter = opts.jitter ?? true;
  return (attempt) => {
    const cap = Math.min(max, initial * factor ** Math.min(attempt, MAX_BACKOFF_EXPONENT));
    return jitter ? Math.floor(random() * cap) : cap;
  };
}

/** A restartable timer (Phoenix style): `schedule()` runs `fn` after `delayFor(tries)`, `reset()` starts over. */
export class Timer {
  #handle: ReturnType<typeof setTimeout> | undefined;
  readonly #fn: () => void;
  readonly #delayFor: DelayFor;
  tries = 0;

  constructor(fn: () => void, delayFor: DelayFor) {
    this.#fn = fn;
    this.#delayFor = delayFor;
  }

  schedule(): number {
    this.cancel();
    const delay = this.#delayFor(this.tries++);
    this.#handle = setTimeout(() => {
      this.#handle = undefined;
      this.#fn();
    }, delay);
    return delay;
  }

  get pending(): boolean {
    return this.#handle !== undefined;
  }

  cancel(): void {
    clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  reset(): void {
    this.cancel();
    this.tries = 0;
  }
}
