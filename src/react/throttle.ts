/**
 * @internal A leading-edge throttle, shared by `useMyState({ throttle })` and my typing frames (typing-store.ts).
 * `push(value, ms)` passes `value` on at once when nothing went out in the last `ms` ms and nothing is held;
 * otherwise it holds the value (the latest one only) until the end of the window when `trailing`, or drops it.
 */
export interface Throttle<T> {
  /** When a value last went out (`Date.now()`); 0 when none went out since creation or `reset()`. */
  last(): number;
  /** Send `value` now when the window allows (returns true), else hold it (`trailing`) or drop it (returns false). */
  push(value: T, ms: number, trailing?: boolean, now?: number): boolean;
  /** Send the held value now, if any (end of the window, or the holder is going away). */
  flush(): void;
  /** Forget the last send and drop any held value: the next push goes out at once. */
  reset(): void;
}

/** @internal A {@link Throttle} in front of `send` (its functions do not use `this`: they may be passed around). */
export function throttle<T>(send: (value: T) => void): Throttle<T> {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let held: { value: T } | null = null;
  const stop = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  const flush = (): void => {
    stop();
    const h = held;
    held = null;
    if (!h) return;
    last = Date.now();
    send(h.value);
  };
  return {
    last: () => last,
    push(value, ms, trailing = true, now = Date.now()) {
      if (ms <= 0 || (timer === undefined && (last === 0 || now - last >= ms))) {
        last = now;
        send(value);
        return true;
      }
      if (trailing) {
        held = { value };
        timer ??= setTimeout(flush, Math.max(0, ms - (now - last)));
      }
      return false;
    },
    flush,
    reset() {
      stop();
      held = null;
      last = 0;
    },
  };
}
