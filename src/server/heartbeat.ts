/**
 * The dead-peer heartbeat, as a timer wheel. Any frame a socket sends (a call, `_ping`, a pong) is a sign of life;
 * only a socket that has been silent for a while gets a WebSocket ping, and one silent for `pongTimeoutMs` is dropped.
 * The sockets are spread over {@link SLOTS} buckets and one bucket is checked per tick, so each socket is checked
 * once per {@link CYCLE_MS} and the work (and the pings) never come as one sweep over every socket.
 *
 * When a silent socket is pinged: at `pongTimeoutMs - pingIntervalMs` of silence (at least `pingIntervalMs`), so the
 * ping leaves `pingIntervalMs` to answer before the deadline. With the defaults (5 s, 13 s) an idle socket costs one
 * ping per ~8 s, an active one none, and a vanished peer is dropped within 14 s of its last sign of life (pinged at
 * 8-8.5 s of silence, then 5 s to answer, checked every 0.5 s).
 *
 * A busy server never drops an honest peer for its own delay: a socket is dropped only once its ping has had the
 * whole answer time since it actually went out, and only after the event loop has read what waits on the sockets
 * (a pong that arrived while the server was stalled counts). The bound above holds while the server keeps up.
 */
import type { Limits } from '../protocol/constants.js';

/** One socket as the heartbeat sees it (fields kept on the socket object itself: no side table). */
export interface Beating {
  /** Last sign of life, in the heartbeat's clock. */
  seen: number;
  /** When the last ping went out since `seen` (0: none). */
  pinged: number;
  /** Bucket index, -1 when not in the wheel. */
  hbBucket: number;
  /** Position in its bucket. */
  hbSlot: number;
}

/** What the heartbeat does to a socket. */
export interface HeartbeatOps<T> {
  /** Send a WebSocket ping. */
  ping(t: T): void;
  /** Drop the socket now. */
  terminate(t: T): void;
  /** Other per-socket upkeep on each check; `true` when it dropped the socket (a slow consumer). */
  check?(t: T, wallNow: number): boolean;
}

/** Buckets of the wheel. */
export const SLOTS = 10;
/** Each socket is checked once per this many ms. */
export const CYCLE_MS = 500;

/** When a silent socket is due a ping, in ms of silence. */
export function pingAfter(limits: Pick<Limits, 'pingIntervalMs' | 'pongTimeoutMs'>): number {
  return Math.max(limits.pingIntervalMs, limits.pongTimeoutMs - limits.pingIntervalMs);
}

export class Heartbeat<T extends Beating> {
  private readonly buckets: T[][] = Array.from({ length: SLOTS }, () => []);
  private cursor = 0;
  /** The bucket the next socket goes into (round robin, so buckets stay even). */
  private next = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly pingAt: number;
  private readonly deadline: number;
  /** Time a ping has to be answered, counted from when it was sent. */
  private readonly answerMs: number;
  /** Pings sent (for stats and tests). */
  pings = 0;

  constructor(
    limits: Pick<Limits, 'pingIntervalMs' | 'pongTimeoutMs'>,
    private readonly ops: HeartbeatOps<T>,
    private readonly clock: () => number,
  ) {
    this.pingAt = pingAfter(limits);
    this.deadline = limits.pongTimeoutMs;
    this.answerMs = Math.max(0, this.deadline - this.pingAt);
    // A short deadline (tests) is checked more often, so the bound stays within a fraction of it.
    const cycle = Math.max(SLOTS * 5, Math.min(CYCLE_MS, Math.floor(limits.pongTimeoutMs / 4)));
    this.timer = setInterval(() => this.tick(), Math.max(5, Math.floor(cycle / SLOTS)));
    if (typeof this.timer === 'object' && 'unref' in this.timer) this.timer.unref();
  }

  /** How many sockets are in the wheel. */
  get size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.length;
    return n;
  }

  /** Start watching `t` (its `seen` set by the caller). */
  add(t: T): void {
    if (t.hbBucket >= 0) return;
    const b = this.next;
    this.next = (b + 1) % SLOTS;
    const bucket = this.buckets[b]!;
    t.hbBucket = b;
    t.hbSlot = bucket.length;
    bucket.push(t);
  }

  /** Stop watching `t` (closed). O(1): the last of its bucket takes its place. */
  remove(t: T): void {
    const b = t.hbBucket;
    if (b < 0) return;
    const bucket = this.buckets[b]!;
    const last = bucket.pop()!;
    if (last !== t) {
      bucket[t.hbSlot] = last;
      last.hbSlot = t.hbSlot;
    }
    t.hbBucket = -1;
    t.hbSlot = -1;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Check one bucket: drop the long silent, ping the silent not pinged yet. */
  private tick(): void {
    const bucket = this.buckets[this.cursor]!;
    this.cursor = (this.cursor + 1) % SLOTS;
    if (bucket.length === 0) return;
    const now = this.clock();
    const wall = Date.now();
    let late: T[] | null = null;
    // Backwards: a socket dropped here leaves the bucket (swap-remove) without skipping another.
    for (let i = bucket.length - 1; i >= 0; i--) {
      const t = bucket[i]!;
      const silent = now - t.seen;
      // Past the deadline, and its ping had its whole time to answer (a ping that went out late, the server being
      // busy, is not the peer's fault): dropped below. Not pinged since its last sign of life: pinged now.
      if (silent > this.deadline && t.pinged > t.seen && now - t.pinged >= this.answerMs) {
        (late ??= []).push(t);
        continue;
      }
      if (this.ops.check !== undefined && this.ops.check(t, wall)) {
        this.remove(t);
        this.ops.terminate(t);
        continue;
      }
      if (silent >= this.pingAt && t.pinged <= t.seen) {
        t.pinged = now;
        this.pings++;
        this.ops.ping(t);
      }
    }
    // Past the deadline: dropped only after the event loop has read what is waiting on the sockets (setImmediate
    // runs after the poll phase). Timers run before it, so after a stall of the server's own loop a pong that came
    // in meanwhile is still unread here: without this a busy server would drop honest clients for its own delay.
    if (late !== null) setImmediate(() => this.drop(late));
  }

  /** Drop those of `late` still silent past the deadline (and still watched). */
  private drop(late: T[]): void {
    const now = this.clock();
    for (const t of late) {
      if (t.hbBucket < 0 || now - t.seen <= this.deadline || t.pinged <= t.seen) continue;
      this.remove(t);
      this.ops.terminate(t);
    }
  }
}
