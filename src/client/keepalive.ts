/**
 * Keepalive: a `_ping` every `interval` ms while open, and a deadline: when nothing at all comes back within `timeout`
 * ms of a ping (or of the start of a connection attempt), the link counts as dead (a sleeping laptop, a cut cable, a
 * link that froze mid-handshake). Any frame is a sign of life. A later ping never pushes back a running deadline.
 */
export class Keepalive {
  #ticker: ReturnType<typeof setInterval> | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #ping: () => void;
  readonly #dead: () => void;

  constructor(interval: number, timeout: number, ping: () => void, dead: () => void) {
    this.#interval = interval;
    this.#timeout = timeout;
    this.#ping = ping;
    this.#dead = dead;
  }

  /** A deadline is running (a ping or a connection attempt waits for an answer). */
  get waiting(): boolean {
    return this.#deadline !== undefined;
  }

  /** Ping every `interval` from now on (the link is open). */
  start(): void {
    this.stop();
    this.#ticker = setInterval(() => this.probe(), this.#interval);
  }

  /** Ping now and wait for a sign of life. */
  probe(): void {
    this.#ping();
    this.expect();
  }

  /** Wait for a sign of life within `timeout` (kept when already waiting). */
  expect(): void {
    if (this.#deadline !== undefined) return;
    this.#deadline = setTimeout(() => {
      this.#deadline = undefined;
      this.#dead();
    }, this.#timeout);
  }

  /** A frame came: the link is alive. */
  alive(): void {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /** No more pings, no deadline. */
  stop(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.alive();
  }
}
