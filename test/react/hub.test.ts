// The React layer's stores without React: `react` is mocked to an empty module, as zustand tests its core.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignalHub } from '../../src/react/hub.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { recordingWebSocket } from './helpers.js';
import { AccessToken, Signal } from '../../src/client/index.js';

vi.mock('react', () => ({}));

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('SignalHub (no React)', () => {
  it('joins held channels on attach, counts holders, defers the leave by a tick, bounds direct messages', async () => {
    srv = await startTestServer();
    const watcher = await srv.connect('watcher', 'w');
    const wch = watcher.join('room', { presence: true });
    await wch.ready;
    const rec = recordingWebSocket();
    const hub = new SignalHub({ directMessages: 2 });
    const entry = hub.entry('room');
    const release1 = entry.acquire(true);
    const release2 = entry.acquire(false);
    expect(entry.store.getState().status).toBe('joining');
    const sig = new Signal(new AccessToken(await srv.token('alice', 'web')), { WebSocket: rec.WS, autoConnect: false });
    hub.attach(sig);
    sig.connect();
    await waitFor(() => hub.connection.getState().state === 'open', 5000, 'open');
    await waitFor(() => entry.store.getState().status === 'joined', 5000, 'joined');
    expect(entry.store.getState().participants.map((p) => p.identity)).toEqual(['watcher']);
    await waitFor(() => wch.participants.size === 1, 3000, 'watcher sees alice');

    release1();
    release1(); // idempotent
    await sleep(50);
    expect(wch.participants.size).toBe(1);
    release2();
    const again = entry.acquire(true); // re-acquired within the tick (StrictMode remount): no leave, no rejoin
    await sleep(50);
    expect(wch.participants.size).toBe(1);
    expect(rec.joins('room')).toBe(1);
    expect(rec.sent('"signal.leave"')).toBe(0);
    again();
    await waitFor(() => wch.participants.size === 0, 3000, 'left after the last release');
    expect(hub.entry('room')).not.toBe(entry); // the empty entry was dropped

    for (const text of ['1', '2', '3']) watcher.send({ to: 'alice', text });
    await waitFor(() => hub.direct.getState().messages.length === 2 && hub.direct.getState().messages[1]?.text === '3', 3000, 'dms');
    expect(hub.direct.getState().messages.map((m) => m.text)).toEqual(['2', '3']);

    hub.dispose();
    sig.dispose();
    expect(hub.connection.getState().state).toBe('closed');
  });

  it('rejects bad limits with a RangeError', () => {
    expect(() => new SignalHub({ channelMessages: 0 })).toThrow(RangeError);
  });
});
