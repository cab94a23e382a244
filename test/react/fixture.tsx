// The set-up the React tests share: a real server per test, providers for users of that server, and the teardown
// (unmount, let the providers' deferred teardown run, close the servers). Used by test/react and test/components.
import { cleanup } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach } from 'vitest';
import { socketUpdatesOutsideAct } from './act-env.js';
import type { Signal } from '../../src/client/index.js';
import { NodeWebSocket, startTestServer, type TestServer } from '../../src/testing/index.js';
import { SignalProvider, type SignalProviderProps } from '../../src/index.js';
import { sleep } from '../helpers/wait.js';

/** Client options for providers in Node: the `ws` WebSocket. */
export const opts = { WebSocket: NodeWebSocket };

/** `<SignalProvider>` for one user, token already minted: props as SignalProvider's, less the token. */
export type UserProvider = (props: Omit<SignalProviderProps, 'token'>) => ReactNode;

/** A {@link TestServer} that also makes providers for its users. */
export interface ReactTestServer extends TestServer {
  /**
   * A `<SignalProvider>` for `identity/device` on this server (the token is minted now). `options` given to the
   * component are added to `{ WebSocket: NodeWebSocket }`.
   */
  provider(identity: string, device?: string): Promise<UserProvider>;
}

/** Options of the server: those of `startTestServer`. */
export type ServerOptions = Parameters<typeof startTestServer>[0];

/**
 * Call once at the top level of a test file: socket updates may reach the stores outside act() (as in a browser),
 * and after each test the rendered trees are unmounted and every server started by the returned function is closed
 * (after the providers' deferred teardown ran). A server closed by the test itself is not closed again.
 */
export function reactServers(): (options?: ServerOptions) => Promise<ReactTestServer> {
  socketUpdatesOutsideAct();
  const servers: TestServer[] = [];
  afterEach(async () => {
    cleanup();
    await sleep(20); // deferred teardown of providers
    for (const s of servers.splice(0)) await s.close();
  });
  return async (options) => {
    const srv = await startTestServer(options);
    const close = srv.close.bind(srv);
    let closing: Promise<void> | undefined;
    const rsrv: ReactTestServer = Object.assign(srv, {
      close: () => (closing ??= close()),
      async provider(identity: string, device = 'web'): Promise<UserProvider> {
        const token = await srv.token(identity, device);
        return function User(props) {
          return <SignalProvider {...props} token={token} options={{ ...opts, ...props.options }} />;
        };
      },
    });
    servers.push(rsrv);
    return rsrv;
  };
}

/** Plain clients `names[i]/d<i>` joined to `channel` with presence, one after the other, with `withState(i)` as state when given. */
export async function members(s: TestServer, names: string[], channel: string, withState: (i: number) => object | undefined = () => undefined): Promise<Signal[]> {
  const clients: Signal[] = [];
  for (const [i, n] of names.entries()) {
    const c = await s.connect(n, `d${i}`);
    const ch = c.join(channel, { presence: true });
    await ch.ready;
    const st = withState(i);
    if (st) ch.me.updateState(st);
    clients.push(c);
  }
  return clients;
}
