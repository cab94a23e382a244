import { createServer, connect, type Server, type Socket } from 'node:net';
import { Signal, type SignalOptions } from '../../src/client/index.js';
import { NodeWebSocket, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A loopback TCP proxy in front of a real server, to cut or freeze a client's link the way a
 * network does (RST, or a sleeping laptop: nothing passes, nothing closes).
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private server: Server | null = null;
  port = 0;

  constructor(private targetPort: number) {}

  /** Send new links to another port (a load balancer moving traffic off a dead backend); current links stay. */
  retarget(port: number): void {
    this.targetPort = port;
  }

  async start(): Promise<this> {
    this.server = createServer((down) => {
      const up = connect(this.targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [down, up];
      this.pairs.add(pair);
      down.pipe(up);
      up.pipe(down);
      const end = (): void => {
        this.pairs.delete(pair);
        down.destroy();
        up.destroy();
      };
      down.on('error', end);
      up.on('error', end);
      down.on('close', end);
      up.on('close', end);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/signal/v1/pubsub`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Drop every link now (both ends see a reset). */
  cut(): void {
    for (const [down, up] of [...this.pairs]) {
      down.resetAndDestroy();
      up.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Stop moving bytes on the current links; nothing is closed. New links still pass. */
  freeze(): void {
    for (const [down, up] of this.pairs) {
      down.unpipe(up);
      up.unpipe(down);
      down.pause();
      up.pause();
    }
  }

  async close(): Promise<void> {
    this.cut();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }
}

/** A real client of `srv` (its token, `identity/web`) whose link runs through `proxy`, once open. */
export async function clientVia(srv: TestServer, proxy: TcpProxy, identity: string, opts: SignalOptions = {}): Promise<Signal> {
  const sig = new Signal(await srv.token(identity, 'web'), {
    WebSocket: NodeWebSocket,
    url: proxy.url,
    reconnect: { initialDelay: 100, maxDelay: 300 },
    ...opts,
  });
  await waitFor(() => sig.state === 'open', 5000);
  return sig;
}
