// @vitest-environment jsdom
/** useCall and the call components in React (StrictMode), two providers on a real server, a fake RTCPeerConnection. */
import { StrictMode } from 'react';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { reactServers } from '../react/fixture.js';
import { recordingWebSocket } from '../react/helpers.js';
import { IncomingCall, useCall, VideoTile, type UseCall } from '../../src/calls/index.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { FakePC } from './fake-pc.js';

const startServer = reactServers();
const options = { media: false as const, RTCPeerConnection: FakePC as unknown as typeof RTCPeerConnection };

describe('useCall in StrictMode', () => {
  it('one session per mounted hook (one join of the call channel, one invite), rings, accepts from <IncomingCall>, hangs up', async () => {
    const srv = await startServer();
    const rec = recordingWebSocket();
    const [AsAlice, AsBob] = await Promise.all([srv.provider('alice'), srv.provider('bob')]);
    const calls: Record<string, UseCall> = {};
    function Phone({ name }: { name: string }) {
      const call = useCall(options);
      calls[name] = call;
      return (
        <section aria-label={name} data-status={call.status}>
          <button type="button">before</button>
          <IncomingCall call={call} />
          <VideoTile stream={call.remoteStream} label={`${name} remote`} />
        </section>
      );
    }
    render(
      <StrictMode>
        <AsAlice options={{ WebSocket: rec.WS }}>
          <Phone name="alice" />
        </AsAlice>
        <AsBob>
          <Phone name="bob" />
        </AsBob>
      </StrictMode>,
    );
    await waitFor(() => calls.alice && calls.bob && screen.getByRole('region', { name: 'alice' }) && rec.sockets() === 1, 5000, 'mounted');
    // Let both providers connect, then call.
    await sleep(200);
    const prevFocus = screen.getAllByRole('button', { name: 'before' })[1]!;
    prevFocus.focus();
    act(() => calls.alice!.start('bob', { data: true }));
    const dialog = await waitFor(() => screen.queryByRole('alertdialog'), 5000, 'ring UI');
    expect(dialog.getAttribute('aria-label')).toBe('Connection from alice');
    expect(dialog.textContent).toContain('alice is calling from web');
    const accept = screen.getByRole('button', { name: 'Accept' });
    expect(document.activeElement).toBe(accept); // focus moved to Accept while ringing
    expect(rec.sent('"call-invite"')).toBe(1); // StrictMode's double mount made one session, one invite
    expect(rec.joins()).toBe(1);
    fireEvent.click(accept);
    await waitFor(() => calls.alice!.status === 'connected' && calls.bob!.status === 'connected', 5000, 'connected');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(prevFocus); // and back where it was
    expect(calls.alice!.peer?.address).toMatch(/^bob\/web\//);
    act(() => calls.bob!.hangUp());
    await waitFor(() => calls.alice!.status === 'ended', 5000, 'ended');
    expect(calls.alice!.endedReason).toBe('hung-up');
    act(() => calls.alice!.reset());
    expect(calls.alice!.status).toBe('idle');
  });

  it('Escape declines; unmounting a hook in a call hangs it up', async () => {
    const srv = await startServer();
    const [AsAlice, AsBob] = await Promise.all([srv.provider('alice'), srv.provider('bob')]);
    const calls: Record<string, UseCall> = {};
    function Phone({ name }: { name: string }) {
      const call = useCall(options);
      calls[name] = call;
      return <IncomingCall call={call} autoFocus={false} />;
    }
    const view = render(
      <StrictMode>
        <AsAlice>
          <Phone name="alice" />
        </AsAlice>
        <AsBob>
          <Phone name="bob" />
        </AsBob>
      </StrictMode>,
    );
    await sleep(200);
    act(() => calls.alice!.start('bob'));
    const alert = await waitFor(() => screen.queryByRole('alert'), 5000, 'ring UI (no focus move: role=alert)');
    fireEvent.keyDown(alert, { key: 'Escape' });
    await waitFor(() => calls.alice!.status === 'ended', 5000, 'declined');
    expect(calls.alice!.endedReason).toBe('declined');
    act(() => calls.alice!.start('bob', { data: true }));
    await waitFor(() => calls.bob!.status === 'incoming', 5000, 'ring');
    act(() => calls.bob!.accept());
    await waitFor(() => calls.alice!.status === 'connected', 5000, 'connected');
    const alice = calls.alice!;
    view.rerender(
      <StrictMode>
        <AsAlice>
          <Phone name="alice" />
        </AsAlice>
        <AsBob>{null}</AsBob>
      </StrictMode>,
    );
    await waitFor(() => calls.alice!.status === 'ended', 5000, 'bob unmounted: hung up');
    expect(calls.alice!.endedReason).toBe('hung-up');
    expect(alice.status).toBe('connected'); // the snapshot object given earlier is not mutated
  });
});
