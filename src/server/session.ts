import { METHOD, PONG } from '../protocol/constants.js';
import { encodeError, encodeNotification, encodeResult, type FrameError, type RpcId } from '../protocol/frames.js';

/** An encoded frame shared by every recipient of one fan-out; `cache` is the transport's slot. */
export interface OutFrame {
  readonly text: string;
  cache?: unknown;
}

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

/** Per-connection state. Kept small: a few fields plus a map of joined channels. */
export class Session {
  /** `identity/device/route`. */
  readonly address: string;
  /** Joined channels -> presence flag. */
  readonly channels = new Map<string, boolean>();
  /** Token bucket level (frames). */
  tokens: number;
  lastRefill: number;
  /** Serializes async calls (joins) so later frames keep their order. */
  pending: Promise<void> | null = null;
  closed = false;

  constructor(
    readonly transport: Transport,
    readonly identity: string,
    readonly device: string,
    readonly route: string,
    readonly claims: Record<string, unknown>,
    burst: number,
    now: number,
  ) {
    this.address = `${identity}/${device}/${route}`;
    this.tokens = burst;
    this.lastRefill = now;
  }

  /** Spend one token; `ok`, `refuse` (bucket empty) or `flood` (far past the burst). */
  take(rate: number, burst: number, now: number): 'ok' | 'refuse' | 'flood' {
    const elapsed = now - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(burst, this.tokens + (elapsed * rate) / 1000);
      this.lastRefill = now;
    }
    this.tokens -= 1;
    if (this.tokens >= 0) return 'ok';
    return this.tokens <= -burst ? 'flood' : 'refuse';
  }

  write(frame: OutFrame, maxBuffered: number): void {
    if (this.closed) return;
    if (this.transport.bufferedAmount() > maxBuffered) {
      // Slow consumer: drop this one socket; nobody else waits for it.
      this.closed = true;
      this.transport.terminate();
      return;
    }
    this.transport.send(frame);
  }

  pong(): void {
    this.transport.send(PONG_FRAME);
  }

  /** Reply to a request, or send `signal.error` for a refused notification. */
  refuse(err: FrameError, maxBuffered: number): void {
    const text =
      err.id !== undefined
        ? encodeError(err.id, err.code, err.message)
        : encodeNotification(METHOD.error, {
            code: err.code,
            message: err.message,
            ...(err.method === undefined ? {} : { method: err.method }),
            ...(err.channel === undefined ? {} : { id: err.channel }),
          });
    this.write(outFrame(text), maxBuffered);
  }

  result(id: RpcId | undefined, result: unknown, maxBuffered: number): void {
    if (id !== undefined) this.write(outFrame(encodeResult(id, result)), maxBuffered);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close(code, reason);
  }
}

const PONG_FRAME: OutFrame = outFrame(PONG);

