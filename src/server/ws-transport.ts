import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { frameKind, type Counters } from './observer.js';
import type { OutFrame, Transport } from './session.js';

/** The parts of a `ws` socket the fast path reads (private fields of ws 8; checked by {@link canWriteDirect}). */
interface WsInternals {
  _socket?: Socket | null;
  _sender?: { _state?: number; _queue?: unknown[] } | null;
}

/**
 * The one check that guards the fast path: may frames for `ws` be written as pre-built bytes straight to its TCP
 * socket? Only when the connection is uncompressed (no permessage-deflate) and `ws`'s private fields look as in
 * ws 8 (`_socket` a net.Socket, `_sender` with a numeric `_state` and a `_queue` array). Anything else (another
 * `ws` version, compression) uses the public `ws.send`, which is always correct, only slower.
 */
export function canWriteDirect(ws: WebSocket): boolean {
  if (ws.extensions !== '') return false;
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  return (
    socket != null &&
    typeof socket.write === 'function' &&
    typeof socket.cork === 'function' &&
    sender != null &&
    typeof sender._state === 'number' &&
    Array.isArray(sender._queue)
  );
}

/**
 * Encode a text frame once per fan-out: the whole unmasked WebSocket frame, header included, cached on the frame so
 * every recipient gets the same bytes. An ASCII frame (the common case for JSON) under 64 KiB is kept as a latin1
 * string, which lives in the JS heap and is copied into the socket's write without a native allocation per
 * frame; anything else becomes one Buffer.
 */
function wireFrame(frame: OutFrame): Buffer | string {
  const cached = frame.cache as Buffer | string | undefined;
  if (cached !== undefined) return cached;
  const text = frame.text;
  const len = Buffer.byteLength(text);
  let wire: Buffer | string;
  if (len === text.length && len < 65536) {
    wire = (len < 126 ? String.fromCharCode(0x81, len) : String.fromCharCode(0x81, 126, len >>> 8, len & 0xff)) + text;
  } else {
    const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const buf = Buffer.allocUnsafe(head + len);
    buf[0] = 0x81; // FIN + text
    if (head === 2) buf[1] = len;
    else if (head === 4) {
      buf[1] = 126;
      buf.writeUInt16BE(len, 2);
    } else {
      buf[1] = 127;
      buf.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      buf.writeUInt32BE(len >>> 0, 6);
    }
    buf.write(text, head, 'utf8');
    wire = buf;
  }
  frame.cache = wire;
  return wire;
}

// Sockets corked during this tick: several frames to one socket in one tick leave in one write.
const corked: Socket[] = [];
const uncorkAll = (): void => {
  for (let i = 0; i < corked.length; i++) corked[i]!.uncork();
  corked.length = 0;
};

/**
 * A `ws` socket as a core transport. The frame bytes are built once per fan-out and, while the `ws` sender is
 * idle and uncompressed, written straight to the TCP socket (corked until the end of the tick); otherwise
 * `ws.send` keeps its ordering. One small object per connection (no closures).
 */
class WsTransport implements Transport {
  /** {@link canWriteDirect}, decided once per connection. */
  readonly direct: boolean;

  constructor(
    private readonly ws: WebSocket,
    private readonly closeTimeoutMs: number,
    /** Metrics counters shared by the server's transports; `null`: nothing counted. */
    private readonly counters: Counters | null,
  ) {
    this.direct = canWriteDirect(ws);
  }

  send(frame: OutFrame): void {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    const c = this.counters;
    if (c !== null) {
      c.framesOut[frameKind(frame.text)]!++;
      c.bytesOut += frame.text.length; // characters: bytes for ASCII JSON (a frame header not counted)
    }
    if (!this.direct) return ws.send(frame.text);
    const wire = wireFrame(frame);
    const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
    // Only while the sender is idle with nothing queued: otherwise ws.send keeps the order behind what it holds.
    if (socket && sender && sender._state === 0 && sender._queue!.length === 0) {
      if (socket.writableCorked === 0) {
        socket.cork();
        if (corked.push(socket) === 1) process.nextTick(uncorkAll);
      }
      if (typeof wire === 'string') socket.write(wire, 'latin1');
      else socket.write(wire);
      return;
    }
    ws.send(frame.text);
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) closeWithin(ws, code, reason, this.closeTimeoutMs);
  }

  terminate(): void {
    this.ws.terminate();
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
}

/** An unmasked WebSocket ping with no payload (FIN + opcode 9, length 0): the same two bytes for every socket. */
const PING_FRAME = Buffer.from([0x89, 0x00]);

/**
 * Send a WebSocket ping: the two frame bytes written straight to the TCP socket while the `ws` sender is idle and
 * uncompressed (no Buffer, no mask, no callback per ping), else `ws.ping()`.
 */
export function sendPing(ws: WebSocket): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  if (ws.extensions === '' && socket && sender && sender._state === 0 && Array.isArray(sender._queue) && sender._queue.length === 0) {
    socket.write(PING_FRAME);
    return;
  }
  ws.ping();
}

/**
 * Wrap a `ws` socket as a core transport. A close the peer does not answer is cut after `closeTimeoutMs` (`ws`
 * itself would hold the socket, and its file descriptor, for 30 s).
 */
export function wsTransport(ws: WebSocket, closeTimeoutMs = 2000, counters: Counters | null = null): Transport {
  return new WsTransport(ws, closeTimeoutMs, counters);
}

/** Start a close handshake; a peer that has not answered within `ms` is dropped (`terminate`). */
export function closeWithin(ws: WebSocket, code: number, reason: string, ms: number): void {
  ws.close(code, reason);
  if (ws.readyState === WebSocket.CLOSED) return;
  const timer = setTimeout(() => ws.terminate(), ms);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
}
