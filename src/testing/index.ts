import { WebSocket } from 'ws';
import { AccessToken } from '../client/access-token.js';
import { Signal, type SignalOptions, type WebSocketConstructor } from '../client/signal.js';
import { signAccessToken } from '../server/auth.js';
import { createSignalServer, type SignalServer, type SignalServerOptions } from '../server/node-server.js';

/** A real server on a free loopback port, for tests. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The HS256 secret its tokens are signed with. */
  secret: string;
  server: SignalServer;
  /** Mint a token for `identity` (a random device when absent). */
  token(identity: string, device?: string, opts?: { expiresIn?: number; claims?: Record<string, unknown> }): Promise<string>;
  /** A connected client on Node's `ws` (closed by `close()`). */
  connect(identity: string, device?: string, options?: SignalOptions): Promise<Signal>;
  /** Close every client made by `connect` and the server. */
  close(): Promise<void>;
}

/** The `ws` WebSocket as the client's WebSocket constructor. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/** Resolve once `sig` is open; reject after `ms` (bounded). */
export function waitUntilOpen(sig: Signal, ms = 5000): Promise<void> {
  if (sig.state === 'open') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`${sig.token.identity} did not connect within ${ms} ms`));
    }, ms);
    const off = sig.on('state', (s) => {
      if (s === 'open') {
        clearTimeout(t);
        off();
        resolve();
      }
    });
  });
}

/** Start a real server on port 0 (127.0.0.1) with an HS256 secret. */
export async function startTestServer(
  options: Partial<SignalServerOptions> & { port?: number } = {},
): Promise<TestServer> {
  const secret = typeof options.secret === 'string' ? options.secret : 'test-secret-' + Math.random().toString(36).slice(2);
  const server = createSignalServer({ ...options, secret } as SignalServerOptions);
  const { url, port } = await server.listen(options.port ?? 0, '127.0.0.1');
  const clients = new Set<Signal>();
  const token: TestServer['token'] = (identity, device, opts = {}) =>
    signAccessToken({ secret, identity, audience: url, ...(device === undefined ? {} : { device }), ...opts });
  return {
    url,
    port,
    secret,
    server,
    token,
    async connect(identity, device, opts = {}) {
      const sig = new Signal(new AccessToken(await token(identity, device)), { WebSocket: NodeWebSocket, ...opts });
      clients.add(sig);
      await waitUntilOpen(sig, 5000);
      return sig;
    },
    async close() {
      for (const c of clients) c.dispose();
      clients.clear();
      await server.close();
    },
  };
}

export { signAccessToken } from '../server/auth.js';
export { MemoryBroker } from '../server/broker.js';
export { FakeWebSocket, fakeWebSocket } from './fake-websocket.js';
