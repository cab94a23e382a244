import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useState } from 'react';
import { AccessToken, Signal, type ConnectionState } from 'react-signal-service/client';
import { useDemoServer } from '../support/demo-server.js';

interface Line {
  from: string;
  text: string;
}

/** One user on a bare `Signal` client (no React layer): connect, send a direct message, log what arrives. */
function ClientPane({ identity, peer, color }: { identity: string; peer: string; color: string }) {
  const server = useDemoServer();
  const [signal, setSignal] = useState<Signal | null>(null);
  const [state, setState] = useState<ConnectionState>('connecting');
  const [log, setLog] = useState<Line[]>([]);
  useEffect(() => {
    let sig: Signal | null = null;
    let cancelled = false;
    void server.token(identity, 'raw').then((jwt) => {
      if (cancelled) return;
      sig = new Signal(new AccessToken(jwt), { WebSocket: server.WebSocket });
      sig.on('state', (s) => setState(s));
      sig.on('message', (m) => setLog((l) => [...l.slice(-19), { from: m.from, text: String(m['text']) }]));
      setState(sig.state);
      setSignal(sig);
    });
    return () => {
      cancelled = true;
      sig?.dispose();
    };
  }, [server, identity]);
  return (
    <section className="pane" aria-label={`${identity}'s client`} style={{ ['--user-color' as string]: color }}>
      <header className="pane-head">
        <span className="avatar" aria-hidden="true">{identity[0]!.toUpperCase()}</span>
        <div className="pane-user">
          <span className="pane-name">{identity}</span>
          <span className="pane-device">new Signal(token)</span>
        </div>
        <span className="conn" data-state={state}>{state}</span>
      </header>
      <div className="pane-body">
        <button className="btn primary" disabled={!signal} onClick={() => signal?.send({ to: peer, text: `Hello from ${identity}` })}>
          Send “Hello” to {peer}
        </button>
        <p className="section-label">Received</p>
        <ul className="event-log" aria-label={`${identity}'s received messages`}>
          {log.length === 0 ? <li>Nothing yet</li> : null}
          {log.map((l, i) => (
            <li key={i}>
              {l.text} <small>from {l.from}</small>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

function SignalClientDemo() {
  const server = useDemoServer();
  return (
    <main className="demo">
      <div className="demo-header">
        <div>
          <h1 className="demo-title">Signal client (no React)</h1>
          <p className="demo-lede">
            The framework-free client: <code>new Signal(new AccessToken(jwt))</code>, <code>signal.send(&#123; to, … &#125;)</code>,{' '}
            <code>signal.on('message')</code>. The React hooks are built on it.
          </p>
        </div>
        <span className="demo-server">{server.label}</span>
      </div>
      <div className="demo-panes" data-count="2">
        <ClientPane identity="alice" peer="bob" color="#7c3aed" />
        <ClientPane identity="bob" peer="alice" color="#0284c7" />
      </div>
    </main>
  );
}

const meta = {
  title: 'Client/Signal',
  component: SignalClientDemo,
  tags: ['!autodocs'],
} satisfies Meta<typeof SignalClientDemo>;
export default meta;

export const DirectMessages: StoryObj<typeof meta> = {};
