import { useEffect, useState, type CSSProperties, type ReactNode } from 'react';
import { SignalProvider, useConnectionState } from 'react-signal-service';
import { useDemoServer } from './demo-server.js';

/** The demo cast: a display name and a color per identity. */
export const USERS: Record<string, { name: string; color: string }> = {
  alice: { name: 'Alice', color: '#7c3aed' },
  bob: { name: 'Bob', color: '#0369a1' },
  carol: { name: 'Carol', color: '#b45309' },
  dave: { name: 'Dave', color: '#047857' },
  erin: { name: 'Erin', color: '#be185d' },
  frank: { name: 'Frank', color: '#4d7c0f' },
  grace: { name: 'Grace', color: '#1d4ed8' },
};

export const nameOf = (identity: string): string => USERS[identity]?.name ?? identity;
export const colorOf = (identity: string): string => USERS[identity]?.color ?? '#4f46e5';
/** The identity part of `identity/device/route`. */
export const identityOf = (address: string): string => address.split('/')[0] ?? address;
/** The device part of `identity/device/route`. */
export const deviceOf = (address: string): string => address.split('/')[1] ?? '';

/** A user's own connection: fetches a token for `identity/device` and mounts a `SignalProvider`. */
export function UserProvider({ identity, device, children }: { identity: string; device: string; children: ReactNode }) {
  const server = useDemoServer();
  const [token, setToken] = useState<{ jwt: string; server: typeof server } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    setToken(null);
    setError(null);
    server.token(identity, device).then(
      (jwt) => !cancelled && setToken({ jwt, server }),
      (e: unknown) => !cancelled && setError((e as Error).message),
    );
    return () => {
      cancelled = true;
    };
  }, [server, identity, device]);
  if (error) {
    return (
      <div role="alert" className="pane-error">
        <strong>
          {nameOf(identity)} cannot get a token from {server.url}
        </strong>
        <span>{error}</span>
        <span>
          Start a server with <code>npm start</code> (or <code>npx react-signal-service serve --dev-tokens</code>), or switch the toolbar's
          “Signal server” to the in-page server.
        </span>
      </div>
    );
  }
  if (!token || token.server !== server) return null;
  return (
    <SignalProvider key={server.url} token={token.jwt} options={{ WebSocket: server.WebSocket }}>
      {children}
    </SignalProvider>
  );
}

/** The connection state as a small badge. */
export function ConnectionBadge() {
  const state = useConnectionState();
  return (
    <span className="conn" data-state={state} role="status" aria-label={`connection ${state}`}>
      {state}
    </span>
  );
}

export function Avatar({ identity, small }: { identity: string; small?: boolean }) {
  return (
    <span className={small ? 'avatar small' : 'avatar'} aria-hidden="true" style={{ ['--user-color' as string]: colorOf(identity) } as CSSProperties}>
      {nameOf(identity).slice(0, 1).toUpperCase()}
    </span>
  );
}

/** One user's pane: a labelled region with the user's name, device and connection state. */
export function UserPane({
  identity,
  device,
  children,
  actions,
}: {
  identity: string;
  device: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const label = `${nameOf(identity)} on ${device}`;
  return (
    <section className="pane" aria-label={label} data-user={identity} data-device={device} style={{ ['--user-color' as string]: colorOf(identity) } as CSSProperties}>
      <UserProvider identity={identity} device={device}>
        <header className="pane-head">
          <Avatar identity={identity} />
          <div className="pane-user">
            <span className="pane-name">{nameOf(identity)}</span>
            <span className="pane-device">
              {identity}/{device}
            </span>
          </div>
          {actions}
          <ConnectionBadge />
        </header>
        <div className="pane-body">{children}</div>
      </UserProvider>
    </section>
  );
}

/** A demo page: title, explanation, server badge and the panes side by side. */
export function DemoFrame({ title, lede, count, children }: { title: string; lede: ReactNode; count: number; children: ReactNode }) {
  const server = useDemoServer();
  return (
    <main className="demo">
      <div className="demo-header">
        <div>
          <h1 className="demo-title">{title}</h1>
          <p className="demo-lede">{lede}</p>
        </div>
        <span className="demo-server" title={server.url}>
          {server.mode === 'in-page' ? 'in-page server' : `server ${server.label}`}
        </span>
      </div>
      <div className="demo-panes" data-count={count}>
        {children}
      </div>
    </main>
  );
}
