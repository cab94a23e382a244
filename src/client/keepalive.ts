/** A running {@link keepalive}. */
export interface Keepalive {
  /** A deadline is running (a ping or a connection attempt waits for an answer). */
  readonly waiting: boolean;
  /** Ping every `interval` from now on (the link is open). */
  start(): void;
  /** Ping now and wait for a sign of life. */
  probe(): void;
  /** Wait for a sign of life within `timeout` (kept when already waiting). */
  expect(): void;
  /** A frame came: the link is alive. */
  alive(): void;
  /** No more pings, no deadline. */
  stop(): void;
}

/**
 * Keepalive: a `_ping` every `interval` ms while open, and a deadline: when nothing at all comes back within `timeout`
 * ms of a ping (or of the start of a connection attempt), the link counts as dead (a sleeping laptop, a cut cable, a
 * link that froze mid-handshake). Any frame is a sign of life. A later ping never pushes back a running deadline.
 */
export function keepalive(interval: number, timeout: number, ping: () => void, dead: () => void): Keepalive {
  let ticker: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const expect = (): void => {
    deadline ??= setTimeout(() => {
      deadline = undefined;
      dead();
    }, timeout);
  };
  const probe = (): void => {
    ping();
    expect();
  };
  const alive = (): void => {
    clearTimeout(deadline);
    deadline = undefined;
  };
  const stop = (): void => {
    clearInterval(ticker);
    alive();
  };
  return {
    get waiting() {
      return deadline !== undefined;
    },
    start() {
      stop();
      ticker = setInterval(probe, interval);
    },
    probe,
    expect,
    alive,
    stop,
  };
}
