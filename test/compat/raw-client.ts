import { WebSocket } from 'ws';

/** One frame as received: the raw text and, when it is JSON, the parsed value. */
export interface RawFrame {
  text: string;
  json: unknown;
  binary: boolean;
}

/**
 * A raw `ws` socket speaking the wire protocol by hand (as the Bit6 JS SDK does): every frame
 * received is kept in order, so tests can assert each one exactly.
 */
export class RawClient {
  readonly frames: RawFrame[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as ArrayBuffer).toString();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ text, json, binary: isBinary });
      this.wake();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve({ code, reason: this.closeReason });
      });
    });
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', (code) => reject(new Error(`closed before open (${code})`)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.opened.catch(() => {});
  }

  /** Send a raw string or a JSON value. */
  send(frame: string | object): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Send a notification exactly as the SDK does: `{jsonrpc, method, params}` without `id`. */
  notify(method: string, params: object): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** The next unread frame (bounded wait). */
  async nextFrame(ms = 3000): Promise<RawFrame> {
    const deadline = Date.now() + ms;
    while (this.cursor >= this.frames.length) {
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode} ${this.closeReason}) while waiting for a frame`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames[this.cursor++]!;
  }

  /** The next unread frame, parsed as JSON. */
  async next(ms = 3000): Promise<Record<string, unknown>> {
    const f = await this.nextFrame(ms);
    if (typeof f.json !== 'object' || f.json === null) throw new Error(`expected a JSON object frame, got ${JSON.stringify(f.text)}`);
    return f.json as Record<string, unknown>;
  }

  /** Frames received and not read yet. */
  unread(): RawFrame[] {
    return this.frames.slice(this.cursor);
  }

  /** Wait `ms` and return what arrived unread meanwhile (tests assert it is empty). */
  async drain(ms = 150): Promise<RawFrame[]> {
    await new Promise((r) => setTimeout(r, ms));
    const rest = this.unread();
    this.cursor = this.frames.length;
    return rest;
  }

  /** Resolve with the close code (bounded wait). */
  async waitClose(ms = 3000): Promise<{ code: number; reason: string }> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Drop the TCP connection without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}

/** Open a raw socket on `base` (`http://127.0.0.1:PORT`) with the token in `?jwt=`; `path` defaults to the v1 path. */
export function rawSocket(base: string, jwt: string | null, path = '/signal/v1/pubsub'): RawClient {
  const url = `${base.replace(/^http/, 'ws')}${path}${jwt === null ? '' : `?jwt=${encodeURIComponent(jwt)}`}`;
  return new RawClient(new WebSocket(url));
}

/** Open a raw socket and wait until it is open. */
export async function rawConnect(base: string, jwt: string, path?: string): Promise<RawClient> {
  const c = rawSocket(base, jwt, path);
  await c.opened;
  return c;
}

/** Tracks raw clients so `afterEach` can close them all. */
export class RawPool {
  private readonly all = new Set<RawClient>();
  add<T extends RawClient>(c: T): T {
    this.all.add(c);
    return c;
  }
  async connect(base: string, jwt: string, path?: string): Promise<RawClient> {
    const c = this.add(rawSocket(base, jwt, path));
    await c.opened;
    return c;
  }
  closeAll(): void {
    for (const c of this.all) c.close();
    this.all.clear();
  }
}

/** An endpoint address of `identity/device`: `identity/device/route`. */
export const addressOf = (identityDevice: string): RegExp =>
  new RegExp(`^${identityDevice.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[a-z0-9]+$`);
