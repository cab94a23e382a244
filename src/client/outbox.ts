import { CLIENT_ERROR, ERROR, ERROR_CODE, RATE_SHARE, UNLIMITED_RATE, type SignalErrorCode } from '../protocol/constants.js';
import { encodeCall } from '../protocol/frames.js';
import { TokenBucket } from '../protocol/token-bucket.js';
import { SignalError } from './errors.js';
import type { Payload } from './types.js';

/** A pace: frames per second past a burst. */
export interface Pace {
  framesPerSecond: number;
  burst: number;
}

/** What an {@link Outbox} needs from its client. */
export interface OutboxLink {
  /** Frames may be written now (the connection is open). */
  isOpen(): boolean;
  /** A user's call may wait for a connection (the client is not closed). */
  accepts(): boolean;
  /** Write one text frame on the socket. */
  write(text: string): void;
  /** Report what was refused or dropped. */
  report(err: SignalError): void;
}

/** A frame waiting. With `payload`: a user's call, kept across reconnects; without: a control frame, re-issued on open. */
interface Item {
  text: string;
  payload?: Payload;
}

/**
 * The outgoing queue: size checks (a frame the server would close the connection for is refused here, carrying its
 * payload), a bound (`maxQueue`), and pacing under the server's rate limit with a token bucket: past the burst,
 * frames wait and leave at the pace, in order. Frames wait while the connection is not open; on open, the client's
 * rejoins go first, then what waited.
 */
export class Outbox {
  #queue: Item[] = [];
  /** `null`: no pacing. */
  #bucket: TokenBucket | null;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #maxQueue: number;
  readonly #maxFrameBytes: number;
  readonly #link: OutboxLink;

  constructor(link: OutboxLink, maxQueue: number, maxFrameBytes: number, pace: Pace | null) {
    this.#link = link;
    this.#maxQueue = maxQueue;
    this.#maxFrameBytes = maxFrameBytes;
    this.#bucket = pace && new TokenBucket(pace.framesPerSecond, pace.burst);
  }

  /** Frames waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /** A user's call: refused (and reported, with its payload) when too large, when closed, or when the queue is full. */
  call(method: string, params: Payload): void {
    const text = encodeCall(method, params);
    if (this.#tooLarge(method, params, text)) return;
    if (!this.#link.accepts()) return this.#refuse(CLIENT_ERROR.CLOSED, method, params, 'the connection is closed');
    const max = this.#maxQueue;
    if (this.#queue.length >= max) return this.#refuse(CLIENT_ERROR.QUEUE_FULL, method, params, `${max} frames already queued`);
    this.#push({ text, payload: params });
  }

  /** A control frame (state, leave) while open: never kept across a reconnect (the client re-issues it on open). */
  control(method: string, params: Payload): void {
    if (!this.#link.isOpen()) return;
    const text = encodeCall(method, params);
    if (!this.#tooLarge(method, params, text)) this.#push({ text });
  }

  /** An encoded request (join, refresh): paced like the rest, dropped on a disconnect. */
  request(text: string): void {
    this.#push({ text });
  }

  /** Write now, ahead of the queue, but counted against the pace (a keepalive `_ping`, as the server counts it). */
  urgent(text: string): void {
    this.#bucket?.take(1, true);
    this.#link.write(text);
  }

  /** The connection opened: a full burst; `first` issues its frames (rejoins) ahead of what waited. */
  open(first: () => void): void {
    this.#bucket?.fill();
    const waiting = this.#queue;
    this.#queue = [];
    first();
    for (const item of waiting) this.#push(item);
  }

  /** The connection went: stop draining; control frames are dropped, user calls stay for the next connection. */
  pause(): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    if (this.#queue.some((f) => f.payload === undefined)) this.#queue = this.#queue.filter((f) => f.payload !== undefined);
  }

  /** Drop everything waiting, reporting the payloads (`SIGNAL_ERR_CLOSED`). */
  drop(why: string): void {
    const q = this.#queue;
    if (q.length === 0) return;
    this.#queue = [];
    this.#link.report(new SignalError(CLIENT_ERROR.CLOSED, `${q.length} queued frame(s) dropped: ${why}`, { payload: q.map((f) => f.payload) }));
  }

  /**
   * Pace under the rate a server told in a join reply (extension): {@link RATE_SHARE} of it; `framesPerSecond: null`
   * (Infinity on the wire) or a huge rate means none. Anything else is ignored.
   */
  adopt(rate: unknown): void {
    if (typeof rate !== 'object' || rate === null) return;
    const { framesPerSecond: fps, burst } = rate as { framesPerSecond?: unknown; burst?: unknown };
    if (fps === null) return this.#setPace(null);
    if (typeof fps !== 'number' || typeof burst !== 'number' || !(fps > 0) || !(burst >= 1)) return;
    this.#setPace(fps > UNLIMITED_RATE ? null : { framesPerSecond: fps * RATE_SHARE, burst: Math.max(1, Math.floor(burst * RATE_SHARE)) });
  }

  #setPace(next: Pace | null): void {
    const b = this.#bucket;
    if (next && b) {
      if (next.framesPerSecond === b.perSecond && next.burst === b.burst) return;
      b.setRate(next.framesPerSecond, next.burst);
    } else this.#bucket = next && new TokenBucket(next.framesPerSecond, next.burst);
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#armDrain();
  }

  /** Refuse (and report) a frame the server would close the connection for. */
  #tooLarge(method: string, params: Payload, text: string): boolean {
    const max = this.#maxFrameBytes;
    if (text.length <= max / 3) return false; // even all 3-byte characters fit
    if (new TextEncoder().encode(text).length <= max) return false;
    this.#refuse(ERROR_CODE[ERROR.TOO_LARGE], method, params, `frame larger than ${max} bytes`);
    return true;
  }

  #refuse(code: SignalErrorCode, method: string, params: Payload, why: string): void {
    this.#link.report(new SignalError(code, `${method} not sent: ${why}`, { method, payload: params }));
  }

  /** Write now when open, nothing waits and the pace allows; else queue (drained by a timer once open). */
  #push(item: Item): void {
    if (this.#link.isOpen() && this.#queue.length === 0 && this.#take()) {
      this.#link.write(item.text);
      return;
    }
    this.#queue.push(item);
    this.#armDrain();
  }

  #take(): boolean {
    return this.#bucket === null || this.#bucket.take();
  }

  #armDrain(): void {
    if (this.#drainTimer !== undefined || !this.#link.isOpen() || this.#queue.length === 0) return;
    this.#drainTimer = setTimeout(
      () => {
        this.#drainTimer = undefined;
        while (this.#link.isOpen() && this.#queue.length > 0 && this.#take()) this.#link.write(this.#queue.shift()!.text);
        this.#armDrain();
      },
      Math.max(1, this.#bucket?.wait() ?? 0),
    );
  }
}
