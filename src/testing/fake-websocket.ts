import type { WebSocketConstructor, WebSocketLike } from '../client/signal.js';

/**
 * A scripted in-memory WebSocket for timing unit tests of the client (with fake timers). Never a
 * substitute for the real path: use {@link startTestServer} for anything that is not about timing.
 */
export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  /** Text frames the client sent, in order. */
  readonly sent: string[] = [];
  /** Set when the client called `close()`. */
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('FakeWebSocket: not open');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = { ...(code === undefined ? {} : { code }), ...(reason === undefined ? {} : { reason }) };
  }

  // ---- driven by the test ----

  /** The socket opens. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** The server sends a text (or any) frame. */
  receive(data: unknown): void {
    this.onmessage?.({ data });
  }
  /** Open and answer the client's first `_ping`: the client counts the connection open. */
  accept(): void {
    this.open();
    this.receive('_pong');
  }
  /** The connection ends with `code` (1006: dropped). */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** The URL's `jwt` parameter. */
  get jwt(): string | null {
    return new URL(this.url).searchParams.get('jwt');
  }
}

/** A WebSocket constructor whose instances are collected in `sockets` (newest last). */
export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeWebSocket[]; last(): FakeWebSocket } {
  const sockets: FakeWebSocket[] = [];
  class Ctor extends FakeWebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return {
    WebSocket: Ctor,
    sockets,
    last() {
      const s = sockets[sockets.length - 1];
      if (!s) throw new Error('no socket was opened');
      return s;
    },
  };
}
