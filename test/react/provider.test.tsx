// @vitest-environment jsdom
import * as React from 'react';
import { StrictMode, useState } from 'react';
import { act, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { reactServers } from './fixture.js';
import { recordingWebSocket } from './helpers.js';
import { SignalProvider, useChannel, useConnectionState, useMyState, useSignal } from '../../src/index.js';
import { sleep, waitFor } from '../helpers/wait.js';

const startServer = reactServers();

function Status({ name }: { name: string }) {
  const { status } = useChannel(name);
  const conn = useConnectionState();
  return (
    <p data-testid={`status-${name}`}>
      {conn}:{status}
    </p>
  );
}

describe('SignalProvider', () => {
  it('connects in an effect and shows the connection state', async () => {
    const srv = await startServer();
    const AsAlice = await srv.provider('alice');
    render(
      <AsAlice>
        <Status name="room" />
      </AsAlice>,
    );
    await waitFor(() => screen.getByTestId('status-room').textContent === 'open:joined', 5000, 'open:joined');
    expect(srv.server.stats().connections).toBe(1);
  });

  it('StrictMode double mount: one connection, one join per channel', async () => {
    const srv = await startServer();
    const AsAlice = await srv.provider('alice');
    const rec = recordingWebSocket();
    render(
      <StrictMode>
        <AsAlice options={{ WebSocket: rec.WS }}>
          <Status name="room" />
          <Status name="room" />
          <Status name="lobby" />
        </AsAlice>
      </StrictMode>,
    );
    await waitFor(() => screen.getAllByTestId('status-room').every((e) => e.textContent === 'open:joined'), 5000, 'joined');
    await waitFor(() => screen.getByTestId('status-lobby').textContent === 'open:joined', 5000, 'lobby');
    await sleep(100);
    expect(rec.sockets()).toBe(1);
    expect(srv.server.stats().connections).toBe(1);
    expect(rec.joins('room')).toBe(1);
    expect(rec.joins('lobby')).toBe(1);
  });

  it('unmounting closes the connection, even one still opening', async () => {
    const srv = await startServer();
    const AsAlice = await srv.provider('alice');
    const a = render(
      <AsAlice>
        <Status name="room" />
      </AsAlice>,
    );
    await waitFor(() => screen.getByTestId('status-room').textContent === 'open:joined', 5000, 'open');
    a.unmount();
    await waitFor(() => srv.server.stats().connections === 0, 3000, 'closed on unmount');
    // mount and unmount at once: the socket is closed while it is still connecting
    const b = render(
      <AsAlice>
        <Status name="room" />
      </AsAlice>,
    );
    b.unmount();
    await sleep(200);
    expect(srv.server.stats().connections).toBe(0);
  });

  it('useSignal outside a provider throws a message naming the fix', () => {
    function Bad() {
      useSignal();
      return null;
    }
    const err = console.error;
    console.error = () => {};
    const quiet = (e: ErrorEvent) => e.preventDefault(); // React 18 re-reports the render error on window
    window.addEventListener('error', quiet);
    try {
      expect(() => render(<Bad />)).toThrow(/outside <SignalProvider>.*Wrap your component tree/);
    } finally {
      console.error = err;
      window.removeEventListener('error', quiet);
    }
  });

  it('reference-counted leave: the last component unmounting leaves the channel', async () => {
    const srv = await startServer();
    const watcher = await srv.connect('watcher', 'w');
    const wch = watcher.join('room', { presence: true });
    await wch.ready;
    const AsAlice = await srv.provider('alice');
    let setCount!: (n: number) => void;
    function Many() {
      const [n, set] = useState(2);
      setCount = set;
      return (
        <>
          {Array.from({ length: n }, (_, i) => (
            <Status key={i} name="room" />
          ))}
        </>
      );
    }
    render(
      <StrictMode>
        <AsAlice>
          <Many />
        </AsAlice>
      </StrictMode>,
    );
    await waitFor(() => wch.participants.size === 1, 5000, 'alice in room');
    act(() => setCount(1));
    await sleep(200);
    expect(wch.participants.size).toBe(1); // one component still holds it
    act(() => setCount(0));
    await waitFor(() => wch.participants.size === 0, 5000, 'alice left room');
    expect(srv.server.stats().connections).toBe(2); // alice is still connected
  });

  // <Activity> exists from React 19.2; React 18 has no equivalent to test.
  const Activity = (React as { Activity?: React.ComponentType<{ mode: 'visible' | 'hidden'; children: React.ReactNode }> }).Activity;
  it.skipIf(!Activity)('a component hidden by <Activity> releases its channel and joins again when shown', async () => {
    const Act = Activity!;
    const srv = await startServer();
    const watcher = await srv.connect('watcher', 'w');
    const wch = watcher.join('room', { presence: true });
    await wch.ready;
    const AsAlice = await srv.provider('alice');
    const ui = (mode: 'visible' | 'hidden') => (
      <AsAlice>
        <Act mode={mode}>
          <Status name="room" />
        </Act>
      </AsAlice>
    );
    const { rerender } = render(ui('visible'));
    await waitFor(() => wch.participants.size === 1, 5000, 'alice in room');
    rerender(ui('hidden'));
    await waitFor(() => wch.participants.size === 0, 5000, 'alice left while hidden');
    rerender(ui('visible'));
    await waitFor(() => wch.participants.size === 1, 5000, 'alice back');
    await waitFor(() => screen.getByTestId('status-room').textContent === 'open:joined', 5000, 'joined again');
  });

  it('a new token prop updates the token in place: same connection, channels and state kept', async () => {
    const srv = await startServer();
    const watcher = await srv.connect('watcher', 'w');
    const wch = watcher.join('room', { presence: true });
    await wch.ready;
    const t1 = await srv.token('alice', 'web');
    const t2 = await srv.token('alice', 'web', { expiresIn: 7200 });
    expect(t2).not.toBe(t1);
    const rec = recordingWebSocket();
    let sig: ReturnType<typeof useSignal> = null;
    let setMine!: (s: { name: string }) => void;
    function Me() {
      sig = useSignal();
      const [mine, set] = useMyState<{ name: string }>('room');
      setMine = set;
      return <Status name="room" key={mine?.name ?? ''} />;
    }
    const { rerender } = render(
      <SignalProvider token={t1} options={{ WebSocket: rec.WS }}>
        <Me />
      </SignalProvider>,
    );
    await waitFor(() => screen.getByTestId('status-room').textContent === 'open:joined', 5000, 'joined');
    act(() => setMine({ name: 'Alice' }));
    await waitFor(() => [...wch.participants.values()][0]?.state, 5000, 'state');
    const before = sig;
    rerender(
      <SignalProvider token={t2} options={{ WebSocket: rec.WS }}>
        <Me />
      </SignalProvider>,
    );
    await sleep(100);
    expect(sig).toBe(before);
    expect(sig!.token.jwt).toBe(t2);
    expect(rec.sockets()).toBe(1);
    expect(rec.joins('room')).toBe(1);
    expect(wch.participants.size).toBe(1);
    expect([...wch.participants.values()][0]!.state).toEqual({ name: 'Alice' });
    expect(screen.getByTestId('status-room').textContent).toBe('open:joined');
  });
});
