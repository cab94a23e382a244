// @vitest-environment jsdom
import { useEffect, useState } from 'react';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { reactServers } from './fixture.js';
import { NodeWebSocket } from '../../src/testing/index.js';
import {
  PresenceList,
  SignalProvider,
  useChannel,
  useConnectionError,
  useConnectionState,
  useMyState,
  useParticipants,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';

const startServer = reactServers();

function ChannelStatus({ name, publishOnJoin }: { name: string; publishOnJoin?: boolean }) {
  const { status, error, publish } = useChannel(name);
  const [published, setPublished] = useState<boolean | null>(null);
  useEffect(() => {
    if (publishOnJoin && status === 'failed' && published === null) setPublished(publish({ text: 'x' }));
  }, [status, publish, publishOnJoin, published]);
  return (
    <p data-testid={`ch-${name.slice(0, 12)}`} data-published={String(published)}>
      {status}|{error?.code ?? ''}
    </p>
  );
}

describe('faults', () => {
  it('a refused channel: the hook exposes the error, nothing throws, other channels work', async () => {
    const srv = await startServer({ authorize: (_claims, ch) => !ch.startsWith('secret') });
    const AsAlice = await srv.provider('alice');
    const long = 'x'.repeat(300);
    function Errors() {
      const err = useConnectionError();
      return <p data-testid="conn-error">{err?.code ?? ''}</p>;
    }
    render(
      <AsAlice>
        <ChannelStatus name="secret-room" publishOnJoin />
        <ChannelStatus name={long} />
        <ChannelStatus name="open-room" />
        <PresenceList channel="secret-room" />
        <Errors />
      </AsAlice>,
    );
    await waitFor(() => screen.getByTestId('ch-secret-room').textContent?.startsWith('failed|'), 5000, 'secret refused');
    expect(screen.getByTestId('ch-secret-room').textContent).toBe('failed|SIGNAL_ERR_FORBIDDEN');
    await waitFor(() => screen.getByTestId('ch-open-room').textContent === 'joined|', 5000, 'open joined');
    // A name the client itself refuses (over 256 characters) fails the same way, without a throw.
    expect(screen.getByTestId(`ch-${long.slice(0, 12)}`).textContent).toMatch(/^failed\|SIGNAL_ERR_/);
    // publish on the failed channel returned false instead of throwing
    await waitFor(() => screen.getByTestId('ch-secret-room').getAttribute('data-published') === 'false', 3000, 'publish refused');
    expect(screen.getByRole('list').querySelectorAll('li')).toHaveLength(1); // only me
    expect(srv.server.stats().connections).toBe(1);
  });

  it('a malformed token: the connection error says so, nothing throws', async () => {
    function Conn() {
      return (
        <p data-testid="conn">
          {useConnectionState()}|{useConnectionError()?.code ?? ''}
        </p>
      );
    }
    render(
      <SignalProvider token="not-a-jwt" options={{ WebSocket: NodeWebSocket }}>
        <Conn />
      </SignalProvider>,
    );
    await waitFor(() => screen.getByTestId('conn').textContent === 'closed|SIGNAL_ERR_TOKEN', 3000, 'token error');
  });

  it('disconnect and reconnect while mounted: reconnecting then open, channels and my state come back, leavers are gone', async () => {
    const srv1 = await startServer();
    const { port, secret } = srv1;
    const carol = await srv1.connect('carol', 'x', { reconnect: false });
    await carol.join('room', { presence: true }).ready;
    const [ta, tb] = await Promise.all([srv1.token('alice', 'web', { expiresIn: 600 }), srv1.token('bob', 'web', { expiresIn: 600 })]);
    const seen: string[] = [];
    function Conn() {
      const s = useConnectionState();
      if (seen[seen.length - 1] !== s) seen.push(s);
      return <p data-testid="conn">{s}</p>;
    }
    function Me({ who }: { who: string }) {
      const [mine, setMine] = useMyState<{ name: string }>('room');
      useEffect(() => {
        if (!mine) setMine({ name: who.toUpperCase() });
      }, [mine, setMine, who]);
      const names = useParticipants<{ name?: string }, string>('room', (ps) =>
        ps.map((p) => p.state?.name ?? p.identity).sort().join(','),
      );
      const { status } = useChannel('room');
      return (
        <p data-testid={`me-${who}`}>
          {status}|{mine?.name}|{names}
        </p>
      );
    }
    const opts = { WebSocket: NodeWebSocket, reconnect: { initialDelay: 100, maxDelay: 300 } };
    render(
      <>
        <SignalProvider token={ta} options={opts}>
          <Conn />
          <Me who="alice" />
        </SignalProvider>
        <SignalProvider token={tb} options={opts}>
          <Me who="bob" />
        </SignalProvider>
      </>,
    );
    await waitFor(() => screen.getByTestId('me-alice').textContent === 'joined|ALICE|BOB,carol', 5000, 'alice sees bob and carol');
    await waitFor(() => screen.getByTestId('me-bob').textContent === 'joined|BOB|ALICE,carol', 5000, 'bob sees alice and carol');

    await srv1.close(); // carol goes away with it and does not come back
    await waitFor(() => screen.getByTestId('conn').textContent === 'reconnecting', 5000, 'reconnecting');
    expect(screen.getByTestId('me-alice').textContent).toMatch(/^joining\|ALICE\|/);

    const srv2 = await startServer({ port, secret });
    await waitFor(() => screen.getByTestId('conn').textContent === 'open', 10_000, 'open again');
    await waitFor(() => screen.getByTestId('me-alice').textContent === 'joined|ALICE|BOB', 10_000, 'alice: room back, carol gone');
    await waitFor(() => screen.getByTestId('me-bob').textContent === 'joined|BOB|ALICE', 10_000, 'bob: room back, carol gone');
    expect(seen.slice(-2)).toEqual(['reconnecting', 'open']);
    expect(srv2.server.stats().connections).toBe(2);
  }, 30_000);
});
