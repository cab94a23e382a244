/** Something events are listened on (`window`, `document`). */
type Target = { addEventListener?: (type: string, fn: () => void) => void; removeEventListener?: (type: string, fn: () => void) => void };

/**
 * Browser hints that the link may have changed: the network came back (`online`) or the page became visible again
 * (a laptop waking, a tab brought back). Calls `onWake` for each; returns the function that stops listening.
 * Outside a browser (no `addEventListener` on `globalThis`) it listens to nothing.
 */
export function watchWake(onWake: () => void): () => void {
  const g = globalThis as Target & { document?: Target & { visibilityState?: string } };
  const doc = g.document;
  const onVisible = (): void => {
    if (doc?.visibilityState === 'visible') onWake();
  };
  const listen = (how: keyof Target): void => {
    g[how]?.('online', onWake);
    doc?.[how]?.('visibilitychange', onVisible);
  };
  listen('addEventListener');
  return () => listen('removeEventListener');
}
