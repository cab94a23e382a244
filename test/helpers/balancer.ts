/**
 * A loopback TCP load balancer with health checks, as in front of a real deployment: every 100 ms it asks each
 * backend's `GET /readyz`; a new connection goes to the next ready backend (round robin), and a backend that is not
 * ready gets no new connection (a connection with nowhere to go is closed). Open connections are left alone.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class Balancer {
  private server: Server | null = null;
  private readonly ready = new Map<number, boolean>();
  private readonly sockets = new Set<Socket>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private next = 0;
  port = 0;
  /** Connections sent to each backend port. */
  readonly sent = new Map<number, number>();

  constructor(private readonly backends: number[]) {
    for (const p of backends) this.ready.set(p, true);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((down) => {
      const live = this.backends.filter((p) => this.ready.get(p));
      if (live.length === 0) return void down.destroy();
      const port = live[this.next++ % live.length]!;
      this.sent.set(port, (this.sent.get(port) ?? 0) + 1);
      const up = connect(port, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => {
          down.destroy();
          up.destroy();
        });
        s.on('close', () => {
          this.sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(up);
      up.pipe(down);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    this.timer = setInterval(() => void this.check(), 100);
    return this;
  }

  private async check(): Promise<void> {
    await Promise.all(
      this.backends.map(async (p) => {
        try {
          const res = await fetch(`http://127.0.0.1:${p}/readyz`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          this.ready.set(p, res.status === 200);
        } catch {
          this.ready.set(p, false);
        }
      }),
    );
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
