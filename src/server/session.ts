import { METHOD, PONG, type Limits } from '../protocol/constants.js';
import { refill } from '../protocol/token-bucket.js';
import { encodeError, encodeNotification, encodeResult, type ClientCall, type FrameError, type RpcId } from '../protocol/frames.js';
import type { CoreObserver } from './observer.js';

/** An encoded frame shared by every recipient of one fan-out; `cache` is the transport's slot. */
export interface OutFrame {
  readonly text: string;
  cache?: unknown;
}

/**
 * A flat copy of a string kept per connection. A template literal or `+` builds a chain of rope nodes and a
 * substring of 13+ characters points into its whole parent; this copy is one plain string.
 */
export const flat = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

/** Create a frame to send to one or many sessions. */
export const outFrame = (text: string): OutFrame => ({ text });

/** One connection as the transport-free core sees it. */
export interface Transport {
  /** Queue one text frame. */
  send(frame: OutFrame): void;
  /** Close with a code and a reason (orderly). */
  close(code: number, reason: string): void;
  /** Drop at once (no close handshake). */
  terminate(): void;
  /** Bytes queued and not yet written. */
  bufferedAmount(): number;
}

/** Per-connection state. Kept small: a few fields; the first joined channel inline, a Map only past one. */
export class Session {
  /** `identity/device/route`. */
  readonly address: string;
  /** The first joined channel (most connections join one), `undefined` when none. */
  private ch1: string | undefined = undefined;
  /** Presence flag of `ch1`. */
  private p1 = false;
  /** Further joined channels -> presence flag; `null` until a second channel is joined. */
  private more: Map<string, boolean> | null = null;
  /** Token bucket level (frames). */
  tokens: number;
  lastRefill: number;
  /** Byte bucket level (bytes of received frames). */
  byteTokens: number;
  /** An async call (join, refresh) is running: later calls wait in `queue`, in order. */
  busy = false;
  /** Calls waiting behind the running one (bounded by `maxPendingCalls` and `maxPendingBytes`). */
  queue: { call: ClientCall; bytes: number }[] | null = null;
  /** Frame bytes of the calls in `queue`. */
  queuedBytes = 0;
  /** The token's `exp` in ms since the epoch; 0 when it has none. */
  exp = 0;
  /** When this reader's queue first went over `maxBufferedBytes` (0: it is not behind). */
  behindSince = 0;
  closed = false;
  /** The core's observer (logs, metrics), `null` when none: one shared object, set by the core. */
  obs: CoreObserver | null = null;

  constructor(
    readonly transport: Transport,
    readonly identity: string,
    readonly device: string,
    readonly route: string,
    /** The token's claims (replaced by a `signal.refresh`); kept only when an `authorize` hook reads them. */
    public claims: Record<string, unknown>,
    burst: number,
    now: number,
  ) {
    this.address = flat(`${identity}/${device}/${route}`);
    this.tokens = burst;
    this.lastRefill = now;
    this.byteTokens = Infinity; // capped to the byte burst on the first frame
  }

  /** Joined to `name`? */
  inChannel(name: string): boolean {
    return this.ch1 === name || (this.more !== null && this.more.has(name));
  }

  /** The presence flag of a joined channel; `undefined` when not joined. */
  presenceIn(name: string): boolean | undefined {
    if (this.ch1 === name) return this.p1;
    return this.more === null ? undefined : this.more.get(name);
  }

  /** Record a joined channel (or change its presence flag). */
  addChannel(name: string, presence: boolean): void {
    if (this.ch1 === name) this.p1 = presence;
    else if (this.ch1 === undefined && !(this.more !== null && this.more.has(name))) {
      this.ch1 = name;
      this.p1 = presence;
    } else (this.more ??= new Map()).set(name, presence);
  }

  /** Forget a joined channel. */
  removeChannel(name: string): void {
    if (this.ch1 === name) {
      this.ch1 = undefined;
      this.p1 = false;
    } else if (this.more !== null) {
      this.more.delete(name);
      if (this.more.size === 0) this.more = null;
    }
  }

  /** How many channels are joined. */
  channelCount(): number {
    return (this.ch1 === undefined ? 0 : 1) + (this.more === null ? 0 : this.more.size);
  }

  /** The joined channels' names (a copy). */
  channelNames(): string[] {
    const out = this.ch1 === undefined ? [] : [this.ch1];
    if (this.more !== null) for (const name of this.more.keys()) out.push(name);
    return out;
  }

  /**
   * Spend one frame token and `bytes` of the byte budget: `ok`, `refuse` (the frame bucket is empty), `bytes` (the
   * byte budget is spent) or `flood` (far past the frame burst). Both buckets refill with time up to their bursts;
   * the byte level never sinks below `-byteBurst`, so a sender that slows down recovers.
   */
  take(limits: Limits, bytes: number, now: number): 'ok' | 'refuse' | 'bytes' | 'flood' {
    const elapsed = now - this.lastRefill;
    // The same bucket arithmetic as the client's pacing (protocol/token-bucket.ts).
    this.tokens = refill(this.tokens, elapsed, limits.framesPerSecond, limits.frameBurst);
    this.byteTokens = refill(this.byteTokens, elapsed, limits.bytesPerSecond, limits.byteBurst);
    if (elapsed > 0) this.lastRefill = now;
    this.tokens -= 1;
    if (this.tokens < 0) return this.tokens <= -limits.frameBurst ? 'flood' : 'refuse';
    const level = this.byteTokens - bytes;
    this.byteTokens = Math.max(-limits.byteBurst, level);
    return level >= 0 ? 'ok' : 'bytes';
  }

  /**
   * Queue a frame for this reader. A reader is judged by what it fails to drain over time, not by one tick's
   * queue: above `maxBufferedBytes` it counts as behind, and it is dropped (this one socket; nobody else waits)
   * once it has stayed behind for `slowConsumerMs`, or at once past `maxBufferedHardBytes`, which bounds the
   * memory one reader can hold.
   */
  write(frame: OutFrame, limits: Limits): void {
    if (this.closed) return;
    const buffered = this.transport.bufferedAmount();
    if (buffered > limits.maxBufferedBytes) {
      const now = Date.now();
      if (this.behindSince === 0) this.behindSince = now;
      else if (now - this.behindSince > limits.slowConsumerMs) return this.drop();
      if (buffered + frame.text.length > limits.maxBufferedHardBytes) return this.drop();
    } else if (this.behindSince !== 0) this.behindSince = 0;
    this.transport.send(frame);
  }

  /**
   * Between writes: drop this reader if it has stayed behind for `slowConsumerMs` (it holds its queue otherwise
   * until the dead-peer timeout); clear the mark once it has drained. Called by the heartbeat. `true` if dropped.
   */
  checkBehind(limits: Limits, now: number): boolean {
    if (this.behindSince === 0 || this.closed) return false;
    if (this.transport.bufferedAmount() <= limits.maxBufferedBytes) {
      this.behindSince = 0;
      return false;
    }
    if (now - this.behindSince <= limits.slowConsumerMs) return false;
    this.drop();
    return true;
  }

  /** Drop a slow consumer at once (no close handshake: it would wait behind the queue). */
  private drop(): void {
    this.closed = true;
    this.obs?.slowConsumer?.(this, this.transport.bufferedAmount());
    this.transport.terminate();
  }

  pong(): void {
    this.transport.send(PONG_FRAME);
  }

  /** Reply to a request, or send `signal.error` for a refused notification. */
  refuse(err: FrameError, limits: Limits): void {
    if (this.obs !== null) this.obs.refused?.(this, err);
    const text =
      err.id !== undefined
        ? encodeError(err.id, err.code, err.message)
        : encodeNotification(METHOD.error, {
            code: err.code,
            message: err.message,
            ...(err.method === undefined ? {} : { method: err.method }),
            ...(err.channel === undefined ? {} : { id: err.channel }),
          });
    this.write(outFrame(text), limits);
  }

  result(id: RpcId | undefined, result: unknown, limits: Limits): void {
    if (id !== undefined) this.write(outFrame(encodeResult(id, result)), limits);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.obs !== null) this.obs.closing?.(this, code, reason);
    this.transport.close(code, reason);
  }
}

const PONG_FRAME: OutFrame = outFrame(PONG);

