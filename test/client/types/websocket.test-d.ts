// Type tests (vitest's expectTypeOf), compiled by test/client/types.test.ts: every `@ts-expect-error` must be needed.
import { expectTypeOf } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { Signal, type Channel, type WebSocketConstructor, type WebSocketLike } from '../../../src/client/index.js';
import { FakeWebSocket, fakeWebSocket } from '../../../src/testing/fake-websocket.js';

declare const jwt: string;

// The README's advice for Node 20: `new Signal(token, { WebSocket })` with `WebSocket` from the `ws` package.
new Signal(jwt, { WebSocket: WsWebSocket });
expectTypeOf(WsWebSocket).toExtend<WebSocketConstructor>();
expectTypeOf<WsWebSocket>().toExtend<WebSocketLike>();
// The browser's (and Node 22's) global WebSocket, and the testing fake, fit too.
expectTypeOf(globalThis.WebSocket).toExtend<WebSocketConstructor>();
expectTypeOf<FakeWebSocket>().toExtend<WebSocketLike>();
new Signal(jwt, { WebSocket: fakeWebSocket().WebSocket });

// What does not fit is still refused.
// @ts-expect-error no send, close or handlers
new Signal(jwt, { WebSocket: class { constructor(readonly url: string) {} } });
class NoClose {
  readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  constructor(readonly url: string) {}
  send(_data: string): void {}
}
// @ts-expect-error no close()
new Signal(jwt, { WebSocket: NoClose });
class WrongHandler {
  readyState = 0;
  onopen = null;
  onmessage = null;
  // A handler that needs what the client never gives (a number where the client passes an event object).
  onclose: ((code: number) => void) | null = null;
  onerror = null;
  constructor(readonly url: string) {}
  send(_data: string): void {}
  close(): void {}
}
// @ts-expect-error onclose is called with { code, reason }, not a number
new Signal(jwt, { WebSocket: WrongHandler });

// The typing event: (from, ms, participant).
declare const ch: Channel<{ text: string }, { name: string }>;
ch.on('typing', (from, ms, p) => {
  expectTypeOf(from).toEqualTypeOf<string>();
  expectTypeOf(ms).toEqualTypeOf<number>();
  expectTypeOf(p?.state).toEqualTypeOf<{ name: string } | undefined>();
});
ch.sendTyping();
ch.sendTyping(0);
// @ts-expect-error ms is a number
ch.sendTyping('5s');
