import { CLIENT_ERROR, ERROR, ERROR_CODE, RATE_SHARE, UNLIMITED_RATE, type SignalErrorCode } from '../protocol/constants.js';
import { encodeCall } from '../protocol/frames.js';
import { refill } from '../protocol/token-bucket.js';
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

/** A running {@link outbox}. */
export interface Outbox {
  /** Frames waiting. */
  readonly length: number;
  /** A user's call: refused (and reported, with its payload) when too large, when closed, or when the queue is full. */
  call(method: string, params: Payload): void;
  /** A control frame (state, leave) while open: never kept across a reconnect (the client re-issues it on open). */
  control(method: string, params: Payload): void;
  /** An encoded request (join, refresh): paced like the rest, dropped on a disconnect. */
  request(text: string): void;
  /** Write now, ahead of the queue, but counted against the pace (a keepalive `_ping`, as the server counts it). */
  urgent(text: string): void;
  /** The connection opened: a full burst; `first` issues its frames (rejoins) ahead of what waited. */
  open(first: () => void): void;
  /** The connection went: stop draining; control frames are dropped, user calls stay for the next connection. */
  pause(): void;
  /** Drop everything waiting, reporting the payloads (`SIGNAL_ERR_CLOSED`). */
  drop(why: string): void;
  /**
   * Pace under the rate a server told in a join reply (extension): {@link RATE_SHARE} of it; `framesPerSecond: null`
   * (Infinity on the wire) or a huge rate means none. Anything else is ignored.
   */
  adopt(rate: unknown): void;
}

/**
 * The outgoing queue: size checks (a frame the server would close the connection for is refused here, carrying its
 * payload), a bound (`maxQueue`), and pacing under the server's rate limit with a token bucket (`pace`; `null`: none):
 * past the burst, frames wait and leave at the pace, in order. Frames wait while the connection is not open; on
 * open, the client's rejoins go first, then what waited.
 */
export function outbox(link: OutboxLink, maxQueue: number, maxFrameBytes: number, pace: Pace | null): Outbox {
  let queue: Item[] = [];
  /**
   * The token bucket of the pace (`null`: no pacing), kept here with protocol/token-bucket.ts's arithmetic: its
   * level, as of `at` (ms). Starts full.
   */
  let level = pace?.burst ?? 0;
  let at = 0;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;

  /** Refuse (and report) a frame. */
  const refuse = (code: SignalErrorCode, method: string, params: Payload, why: string): void =>
    link.report(new SignalError(code, `${method} not sent: ${why}`, { method, payload: params }));

  /** Refuse (and report) a frame the server would close the connection for. */
  const tooLarge = (method: string, params: Payload, text: string): boolean => {
    if (text.length <= maxFrameBytes / 3) return false; // even all 3-byte characters fit
    if (new TextEncoder().encode(text).length <= maxFrameBytes) return false;
    refuse(ERROR_CODE[ERROR.TOO_LARGE], method, params, `frame larger than ${maxFrameBytes} bytes`);
    return true;
  };

  /** Refill up to now (at `p`, the pace in force); the level. `full`: back to full (a new pace, or a new connection). */
  const fill = (p: Pace | null, full?: boolean): number => {
    const now = Date.now();
    level = full ? (p?.burst ?? 0) : refill(level, now - at, p!.framesPerSecond, p!.burst);
    at = now;
    return level;
  };
  /** Take a token when there is one; `force` takes it anyway (the level may go negative). */
  const take = (force?: boolean): boolean => {
    if (!pace) return true;
    if (fill(pace) < 1 && !force) return false;
    level--;
    return true;
  };

  const stopDrain = (): void => {
    clearTimeout(drainTimer);
    drainTimer = undefined;
  };

  const armDrain = (): void => {
    if (drainTimer !== undefined || !link.isOpen() || queue.length === 0) return;
    drainTimer = setTimeout(
      () => {
        drainTimer = undefined;
        while (link.isOpen() && queue.length > 0 && take()) link.write(queue.shift()!.text);
        armDrain();
      },
      Math.max(1, pace ? Math.ceil(((1 - fill(pace)) * 1000) / pace.framesPerSecond) : 0),
    );
  };

  /** Write now when open, nothing waits and the pace allows; else queue (drained by a timer once open). */
  const push = (item: Item): void => {
    if (link.isOpen() && queue.length === 0 && take()) return link.write(item.text);
    queue.push(item);
    armDrain();
  };

  const setPace = (next: Pace | null): void => {
    if (next && pace) {
      // A new rate: the level is kept, but never above the new burst.
      if (next.framesPerSecond === pace.framesPerSecond && next.burst === pace.burst) return;
      level = Math.min(fill(pace), next.burst);
    } else fill(next, true);
    pace = next;
    stopDrain();
    armDrain();
  };

  return {
    get length() {
      return queue.length;
    },
    call(method, params) {
      const text = encodeCall(method, params);
      if (tooLarge(method, params, text)) return;
      if (!link.accepts()) return refuse(CLIENT_ERROR.CLOSED, method, params, 'the connection is closed');
      if (queue.length >= maxQueue) return refuse(CLIENT_ERROR.QUEUE_FULL, method, params, `${maxQueue} frames already queued`);
      push({ text, payload: params });
    },
    control(method, params) {
      if (!link.isOpen()) return;
      const text = encodeCall(method, params);
      if (!tooLarge(method, params, text)) push({ text });
    },
    request: (text) => push({ text }),
    urgent(text) {
      take(true);
      link.write(text);
    },
    open(first) {
      fill(pace, true);
      const waiting = queue;
      queue = [];
      first();
      for (const item of waiting) push(item);
    },
    pause() {
      stopDrain();
      if (queue.some((f) => f.payload === undefined)) queue = queue.filter((f) => f.payload !== undefined);
    },
    drop(why) {
      const q = queue;
      if (q.length === 0) return;
      queue = [];
      link.report(new SignalError(CLIENT_ERROR.CLOSED, `${q.length} queued frame(s) dropped: ${why}`, { payload: q.map((f) => f.payload) }));
    },
    adopt(rate) {
      if (typeof rate !== 'object' || rate === null) return;
      const { framesPerSecond: fps, burst } = rate as { framesPerSecond?: unknown; burst?: unknown };
      if (fps === null) return setPace(null);
      if (typeof fps !== 'number' || typeof burst !== 'number' || !(fps > 0) || !(burst >= 1)) return;
      setPace(fps > UNLIMITED_RATE ? null : { framesPerSecond: fps * RATE_SHARE, burst: Math.max(1, Math.floor(burst * RATE_SHARE)) });
    },
  };
}
