/**
 * Browser hints that the link may have changed: the network came back (`online`) or the page became visible again
 * (a laptop waking, a tab brought back). Calls `onWake` for each; returns the function that stops listening.
 * Outside a browser (no `addEventListener` on `globalThis`) it listens to nothing.
 */
export function watchWake(onWake: () => void): () => void {
  const g = globalThis as {
    addEventListener?: (type: string, fn: () => void) => void;
    removeEventListener?: (type: string, fn: () => void) => void;
    document?: { visibilityState?: string; addEventListener?: (type: string, fn: () => void) => void; removeEventListener?: (type: string, fn: () => void) => void };
  };
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return () => {};
  const doc = g.document;
  const onVisible = (): void => {
    if (doc?.visibilityState === 'visible') onWake();
  };
  g.addEventListener('online', onWake);
  doc?.addEventListener?.('visibilitychange', onVisible);
  return () => {
    g.removeEventListener?.('online', onWake);
    doc?.removeEventListener?.('visibilitychange', onVisible);
  };
}
