// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { WebSocketConstructor } from '../../src/client/index.js';

describe('server rendering', () => {
  it('importing the package touches no window', async () => {
    let touched = 0;
    const had = Object.getOwnPropertyDescriptor(globalThis, 'window');
    Object.defineProperty(globalThis, 'window', {
      configurable: true,
      get() {
        touched++;
        return undefined;
      },
    });
    try {
      await import('../../src/index.js');
    } finally {
      if (had) Object.defineProperty(globalThis, 'window', had);
      else delete (globalThis as { window?: unknown }).window;
    }
    expect(touched).toBe(0);
  });

  it('renderToString of the provider and every hook and component makes no connection attempt', async () => {
    const { createElement: h } = await import('react');
    const { renderToString } = await import('react-dom/server');
    const rss = await import('../../src/index.js');
    let constructed = 0;
    class NoSocket {
      constructor() {
        constructed++;
        throw new Error('no socket on the server');
      }
    }
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'alice/web', aud: 'http://127.0.0.1:9', exp: 4102444800 })).toString('base64url');
    const jwt = `${header}.${payload}.sig`;
    function Everything() {
      const sig = rss.useSignal();
      const conn = rss.useConnectionState();
      const dms = rss.useDirectMessages();
      const ch = rss.useChannel('room');
      const ps = rss.useParticipants('room');
      const st = rss.useParticipantState('room', 'bob/x/1');
      const [mine] = rss.useMyState('room', { throttle: 50 });
      const { typing } = rss.useTyping('room');
      const who = rss.useIdentity();
      return h(
        'p',
        { id: 'all' },
        [String(sig), conn, dms.messages.length, ch.status, ch.messages.length, ps.length, String(st), String(mine), typing.length, who].join('|'),
      );
    }
    const html = renderToString(
      h(
        rss.SignalProvider,
        { token: jwt, options: { WebSocket: NoSocket as unknown as WebSocketConstructor } },
        h(Everything),
        h(rss.TypingIndicator, { channel: 'room' }),
        h(rss.PresenceList, { channel: 'room' }),
      ),
    );
    expect(constructed).toBe(0);
    expect(html).toContain('null|connecting|0|joining|0|0|undefined|undefined|0|alice');
    expect(html).toContain('aria-live="polite"');
    expect(html).toContain('role="list"');
    expect(html).toContain('alice');
    expect(html).toContain('(you)');
  });
});
