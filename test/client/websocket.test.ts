/** The WebSocket helpers (src/client/websocket.ts): the URL, which class, detaching and closing quietly. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeQuietly, detach, socketUrl, webSocketClass } from '../../src/client/websocket.js';
import { fakeWebSocket, FakeWebSocket } from '../../src/testing/fake-websocket.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('socketUrl', () => {
  it('adds jwt (and replaces after a first connection), encoded, after any query already there', () => {
    expect(socketUrl('ws://h/signal/v1/pubsub', 'a.b+c', null)).toBe('ws://h/signal/v1/pubsub?jwt=a.b%2Bc');
    expect(socketUrl('ws://h/p?x=1', 't', 'alice/web/r1')).toBe('ws://h/p?x=1&jwt=t&replaces=alice%2Fweb%2Fr1');
  });
});

describe('webSocketClass', () => {
  it('the one given, else the global one, else none', () => {
    const fake = fakeWebSocket();
    expect(webSocketClass(fake.WebSocket)).toBe(fake.WebSocket);
    vi.stubGlobal('WebSocket', FakeWebSocket);
    expect(webSocketClass(undefined)).toBe(FakeWebSocket);
    vi.stubGlobal('WebSocket', undefined);
    expect(webSocketClass(undefined)).toBeUndefined();
  });
});

describe('detach / closeQuietly', () => {
  it('drops the handlers but keeps a no-op onerror; closing twice or a throwing close is fine', () => {
    const ws = new FakeWebSocket('ws://h');
    ws.onopen = ws.onmessage = ws.onclose = () => {};
    detach(ws);
    expect([ws.onopen, ws.onmessage, ws.onclose]).toEqual([null, null, null]);
    expect(() => ws.onerror?.({})).not.toThrow();
    closeQuietly(ws, 4000, 'keepalive timeout');
    expect(ws.closedWith).toEqual({ code: 4000, reason: 'keepalive timeout' });
    ws.close = () => {
      throw new Error('already closed');
    };
    expect(() => closeQuietly(ws, 1000, 'x')).not.toThrow();
  });
});
