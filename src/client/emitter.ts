/** Event map: event name -> listener argument tuple. */
export type EventMap = Record<string, unknown[]>;
type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A tiny typed event emitter. A listener that throws never breaks the emitter or the
 * code that emitted: the error is reported (`reportError` or `console.error`).
 */
export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<Listener<never>>>();

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(event, fn);
  }

  /** Add a listener called at most once. */
  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, ((...args: E[K]) => {
      off();
      fn(...args);
    }) as Listener<E[K]>);
    return off;
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    set.delete(fn as Listener<never>);
    if (set.size === 0) this.#listeners.delete(event);
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<E[K]>)(...args);
      } catch (e) {
        reportListenerError(e, 'a listener');
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}

/** @internal Report what a listener threw (`reportError`, else `console.error` naming `what`), without rethrowing. */
export function reportListenerError(e: unknown, what: string): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(e);
  else console.error(`react-signal-service: ${what} threw`, e);
}
