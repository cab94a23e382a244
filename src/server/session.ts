import { METHOD, PONG } from '../protocol/constants.js';
import { encodeError, encodeNotification, encodeResult, type FrameError, type RpcId } from '../protocol/frames.js';

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
    this.address = flat(`${identity}/${device}/${route}`);
    this.tokens = burst;
    this.lastRefill = now;
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

