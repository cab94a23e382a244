/**
 * A real webhook receiver for tests: node:http on port 0, every POST verified with `verifyWebhook` (bad ones
 * answered 401 and counted), events recorded, the answer chosen per POST by `respond` (a status, or 'hang': no answer).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocket } from 'ws';
import { signAccessToken } from '../../src/server/auth.js';
import { verifyWebhook, type WebhookEvent } from '../../src/server/index.js';

export interface Receiver {
  url: string;
  /** Verified events, in arrival order (duplicates included). */
  events: WebhookEvent[];
  /** POSTs received (verified or not). */
  posts: number;
  /** POSTs whose verification failed. */
  invalid: number;
  /** Events of `type`, optionally on `channel`, without duplicate ids. */
  of(type: WebhookEvent['type'], channel?: string): WebhookEvent[];
  close(): Promise<void>;
}

export async function startReceiver(secret: string, respond: (post: number) => number | 'hang' = () => 204): Promise<Receiver> {
  const hung: ServerResponse[] = [];
  const r: Receiver = {
    url: '',
    events: [],
    posts: 0,
    invalid: 0,
    of(type, channel) {
      const seen = new Set<string>();
      return r.events.filter((e) => e.type === type && (channel === undefined || e.data.channel === channel) && !seen.has(e.id) && !!seen.add(e.id));
    },
    close: async () => {
      for (const res of hung) res.destroy();
      srv.closeAllConnections();
      await new Promise<void>((ok) => srv.close(() => ok()));
    },
  };
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => {});
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 4 * 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const n = ++r.posts;
      const v = verifyWebhook(Buffer.concat(chunks).toString('utf8'), req.headers, secret);
      if (!v.ok) {
        r.invalid++;
        res.writeHead(401).end(v.message);
        return;
      }
      const answer = respond(n);
      if (answer === 'hang') return void hung.push(res);
      if (answer >= 200 && answer < 300) r.events.push(...v.events);
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
  const addr = srv.address();
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hooks`;
  return r;
}

/** A raw WebSocket client (optionally naming the endpoint it replaces) that can join and leave. */
export class Raw {
  address = '';
  private seq = 1;
  private readonly replies = new Map<number, (f: { result?: { address?: string }; error?: { message: string } }) => void>();
  private constructor(readonly ws: WebSocket) {
    ws.on('error', () => {});
    ws.on('message', (d) => {
      const text = d.toString();
      if (text === '_pong') return;
      try {
        const f = JSON.parse(text) as { id?: number; result?: { address?: string }; error?: { message: string } };
        if (typeof f.id === 'number') this.replies.get(f.id)?.(f);
      } catch {
        // ignore
      }
    });
  }

  static async connect(baseUrl: string, secret: string, identity: string, device: string, replaces?: string): Promise<Raw> {
    const jwt = await signAccessToken({ secret, identity, device, audience: baseUrl });
    const q = replaces ? `&replaces=${encodeURIComponent(replaces)}` : '';
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/signal/v1/pubsub?jwt=${jwt}${q}`);
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`${identity}/${device} did not connect`)), 10_000);
      ws.once('open', () => (clearTimeout(t), ok()));
      ws.once('close', (code) => (clearTimeout(t), fail(new Error(`${identity}/${device} closed ${code}`))));
    });
    return new Raw(ws);
  }

  async request(method: string, params: Record<string, unknown>): Promise<{ address?: string }> {
    const id = this.seq++;
    const reply = new Promise<{ result?: { address?: string }; error?: { message: string } }>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`no reply to ${method}`)), 10_000);
      this.replies.set(id, (f) => (clearTimeout(t), this.replies.delete(id), ok(f)));
    });
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
    const f = await reply;
    if (f.error) throw new Error(`${method} refused: ${f.error.message}`);
    return f.result ?? {};
  }

  async join(channel: string, presence = true): Promise<void> {
    const r = await this.request('signal.join', { id: channel, presence });
    if (typeof r.address === 'string') this.address = r.address;
  }

  async leave(channel: string): Promise<void> {
    await this.request('signal.leave', { id: channel });
  }

  /** Drop the socket at once (no close handshake). */
  kill(): void {
    this.ws.terminate();
  }

  close(): void {
    this.ws.close();
  }
}
