import type { ConnectionState, Signal } from '../../src/client/index.js';

/** Poll `check` until it returns truthy or `ms` pass (bounded). */
export async function waitFor<T>(check: () => T | undefined | null | false, ms = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolve after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Every state `sig` enters from now on. Polling `sig.state` can miss a state that lasts less than one poll (a
 * reconnect through a live proxy, with full jitter, can take a few ms), so waits for a passing state read this.
 */
export function stateTrail(sig: Signal): ConnectionState[] {
  const trail: ConnectionState[] = [];
  sig.on('state', (now) => trail.push(now));
  return trail;
}
