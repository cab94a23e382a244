/**
 * Graceful drain of one server process (SIGTERM in the CLI, `server.drain()` in the library): new upgrades are
 * refused (503) and `/readyz` answers 503 from the first moment, then every connection is closed with 1012 (service
 * restart), spread evenly over `ms`, so clients reconnect with jitter to the other processes instead of all at once.
 * Each close leaves its channels as an orderly close does (presence leaves at once); our client reconnects within
 * about a second with `replaces`, so its peers see it leave and join again, with no ghost.
 */
import { CLOSE } from '../protocol/constants.js';
import type { SignalCore } from './core.js';

/** What a drain did. */
export interface DrainResult {
  /** Connections closed with 1012. */
  closed: number;
  /** How long it took, in milliseconds. */
  ms: number;
}

/** Default drain window, in milliseconds. */
export const DEFAULT_DRAIN_MS = 5000;

/**
 * Close the core's connections with 1012, spread over `ms`. Connections still open keep working meanwhile (their
 * calls are served): only new ones are refused, by the server's door.
 */
export async function drainConnections(core: SignalCore, ms: number, isStopped: () => boolean = () => false): Promise<DrainResult> {
  const t0 = Date.now();
  const list = core.sessions();
  let closed = 0;
  const n = list.length;
  for (let i = 0; i < n; i++) {
    if (isStopped()) break;
    const due = t0 + (n === 1 ? 0 : (i * ms) / n);
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = list[i]!;
    if (s.closed) continue;
    core.closeSession(s, CLOSE.SERVICE_RESTART, 'service restart: reconnect');
    closed++;
  }
  // Connections accepted while the list was read (their upgrade had passed the door already).
  for (const s of core.sessions()) {
    core.closeSession(s, CLOSE.SERVICE_RESTART, 'service restart: reconnect');
    closed++;
  }
  return { closed, ms: Date.now() - t0 };
}
