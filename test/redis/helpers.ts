import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { signAccessToken } from '../../src/server/auth.js';
import { AccessToken } from '../../src/client/access-token.js';
import { Signal } from '../../src/client/signal.js';
import { NodeWebSocket, waitUntilOpen } from '../../src/testing/index.js';
// @ts-expect-error plain ESM helper without types
import { startRedisServer as startRedisServerJs } from '../../scripts/redis-test-server.mjs';

/** A private redis-server this test started. */
export interface RedisServer {
  port: number;
  url: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export const startRedisServer = startRedisServerJs as (opts?: { port?: number }) => Promise<RedisServer>;

/**
 * One private redis-server for the whole file: started before its tests, killed after them together with every
 * server process the file spawned. `set` receives it (files keep it in their own `redis` variable).
 */
export function useRedisServer(set: (redis: RedisServer) => void): void {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
    set(redis);
  });
  afterAll(async () => {
    await killAllSpawned();
    await redis?.kill();
  });
}

/** One frame the server sent (parsed JSON, or the raw text for `_pong`). */
export interface Frame {
  method?: string;
  params?: Record<string, unknown> & { id?: string; from?: string };
  id?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/**
 * A raw protocol client on `ws` that records every frame, so tests can count exact frames
 * (one join_back per member, one leave...).
 */
export class RawClient {
  readonly frames: Frame[] = [];
  address = '';
  private seq = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = d.toString();
      if (text === '_pong') return;
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        // ignore
      }
    });
    ws.on('error', () => {});
  }

  static async connect(baseUrl: string, secret: string, identity: string, device: string): Promise<RawClient> {
    const jwt = await signAccessToken({ secret, identity, device, audience: baseUrl });
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/signal/v1/pubsub?jwt=${jwt}`);
    const c = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${identity}/${device} did not connect`)), 5000);
      ws.once('open', () => {
        clearTimeout(t);
        resolve();
      });
      ws.once('close', (code) => {
        clearTimeout(t);
        reject(new Error(`${identity}/${device} closed ${code}`));
      });
    });
    return c;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a request and wait for its reply (bounded). */
  async request(method: string, params: Record<string, unknown>, ms = 5000): Promise<Frame> {
    const id = this.seq++;
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.find((x) => x.id === id && x.method === undefined);
      if (f) {
        if (f.error) throw new Error(`${method} refused: ${f.error.message}`);
        return f;
      }
      if (Date.now() > deadline) throw new Error(`no reply to ${method} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  notify(method: string, params: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  async join(channel: string, presence = true): Promise<Frame> {
    const r = await this.request('signal.join', { id: channel, presence });
    const addr = r.result?.address;
    if (typeof addr === 'string') this.address = addr;
    return r;
  }

  /** Notifications with `method`, optionally on channel `ch`. */
  notes(method: string, ch?: string): Frame[] {
    return this.frames.filter((f) => f.method === method && (ch === undefined || f.params?.id === ch));
  }

  /** Addresses that `signal.join`/`join_back`/`leave` frames on `ch` name, in order. */
  froms(method: string, ch: string): string[] {
    return this.notes(method, ch).map((f) => String(f.params?.from));
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * Presence roster as this client sees it from the frames: join/join_back add, leave removes.
 * (What a UI built on these frames would show.)
 */
export function seenMembers(c: RawClient, ch: string): string[] {
  const set = new Set<string>();
  for (const f of c.frames) {
    if (f.params?.id !== ch) continue;
    if (f.method === 'signal.join' || f.method === 'signal.join_back') set.add(String(f.params.from));
    else if (f.method === 'signal.leave') set.delete(String(f.params.from));
  }
  return [...set].sort();
}

/** A server process started through the CLI. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawn `bin/react-signal-service.js serve --port 0 --redis URL --secret S` and wait for its `listening on` line. */
/** Every server process spawned by these helpers and not yet exited (so a failed test never orphans one). */
const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of spawned) c.kill('SIGKILL');
});

/** SIGKILL every server process these helpers started that is still running, and wait for them. */
export async function killAllSpawned(): Promise<void> {
  const left = [...spawned];
  await Promise.all(
    left.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.kill('SIGKILL');
        }),
    ),
  );
}

export async function spawnServer(redisUrl: string, secret: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['bin/react-signal-service.js', 'serve', '--port', '0', '--redis', redisUrl, '--secret', secret], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  spawned.add(child);
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  void exited.then(() => spawned.delete(child));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${output.join('')}`));
    }, 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`server exited ${code}: ${output.join('')}`));
    });
  });
  return {
    url,
    child,
    output,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A real `Signal` client on Node's `ws`, connected to `baseUrl` (bounded wait). */
export async function connectSignal(baseUrl: string, secret: string, identity: string, device: string): Promise<Signal> {
  const jwt = await signAccessToken({ secret, identity, device, audience: baseUrl });
  const sig = new Signal(new AccessToken(jwt), { WebSocket: NodeWebSocket });
  try {
    await waitUntilOpen(sig, 5000);
  } catch (e) {
    sig.dispose();
    throw e;
  }
  return sig;
}
