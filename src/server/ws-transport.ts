import { WebSocket } from 'ws';
import type { OutFrame, Transport } from './session.js';

/** Wrap a `ws` socket as a core transport. The encoded bytes of a frame are cached on it, so a
 * fan-out encodes UTF-8 once, not once per recipient. */
export function wsTransport(ws: WebSocket): Transport {
  return {
    send(frame: OutFrame) {
      if (ws.readyState !== WebSocket.OPEN) return;
      let buf = frame.cache as Buffer | undefined;
      if (buf === undefined) frame.cache = buf = Buffer.from(frame.text);
      ws.send(buf, { binary: false });
    },
    close(code, reason) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    },
    terminate() {
      ws.terminate();
    },
    bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}
