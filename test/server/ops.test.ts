/**
 * Operating a server in-process (issue 13): log lines (pino, parsed as JSON) for each event, never a token, a secret
 * or a payload; refusals of one connection sampled; `/metrics` read by a real Prometheus text parser with counters
 * moving as traffic flows, one registry per server; `/healthz` (GET, HEAD), `/readyz`, the `Origin` check, CORS of
 * `/token`, and a drain closing connections with 1012 spread over its window.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool, rawSocket, type RawClient } from '../compat/raw-client.js';
import { countOf, scrape, valueOf } from '../helpers/prom.js';
import { sleep, waitFor } from '../helpers/wait.js';

const SECRET = 'ops-test-secret-canary-0123456789abcdefXYZ';
const PAYLOAD = 'payload-canary-7f3a9c';

const pool = new RawPool();
const servers: TestServer[] = [];
afterEach(async () => {
  pool.closeAll();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A pino logger writing JSON lines into memory. */
function memoryLogger(): { logger: ReturnType<typeof pino>; lines: () => Record<string, any>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const text = (): string => chunks.join('');
  return { logger, text, lines: () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>) };
}

async function start(opts: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ secret: SECRET, ...opts });
  servers.push(s);
  return s;
}

async function raw(s: TestServer, identity: string, device = 'd'): Promise<RawClient & { jwt: string }> {
  const jwt = await s.token(identity, device);
  return Object.assign(await pool.connect(s.url, jwt), { jwt });
}

const events = (lines: Record<string, any>[], event: string): Record<string, any>[] => lines.filter((l) => l.event === event);

describe('logs', () => {
  it('connection accepted and closed, refusals (sampled), a flood, a bad token: JSON lines with no token, secret or payload', async () => {
    const log = memoryLogger();
    const s = await start({ logger: log.logger, limits: { framesPerSecond: 5, frameBurst: 10 } });
    const alice = await raw(s, 'alice', 'laptop');
    alice.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'room', presence: true }, id: 1 });
    await alice.next();
    await sleep(2100); // the bucket refills
    const bob = await raw(s, 'bob', 'phone');
    // 30 publishes to a channel bob never joined: refused (not joined), then rate limited, then a flood (4429).
    for (let i = 0; i < 30; i++) bob.notify('signal.publish', { id: 'elsewhere', text: PAYLOAD });
    expect((await bob.waitClose(5000)).code).toBe(4429);
    // A bad token at the door.
    const badJwt = `${bob.jwt.slice(0, -6)}AAAAAA`;
    const bad = pool.add(rawSocket(s.url, badJwt));
    expect((await bad.waitClose(5000)).code).toBe(4401);
    alice.notify('signal.publish', { id: 'room', text: PAYLOAD });
    alice.ws.close(1000);
    await waitFor(() => events(log.lines(), 'connection.closed').length === 2, 5000, 'two closed lines');

    const lines = log.lines();
    const accepted = events(lines, 'connection.accepted');
    expect(accepted.map((l) => [l.identity, l.device])).toEqual([
      ['alice', 'laptop'],
      ['bob', 'phone'],
    ]);
    expect(accepted[0]!.route).toMatch(/^[a-z0-9]+$/);
    const closed = events(lines, 'connection.closed');
    const bobClosed = closed.find((l) => l.identity === 'bob')!;
    expect(bobClosed).toMatchObject({ device: 'phone', code: 4429, refusals: expect.any(Number), suppressed: expect.any(Number) });
    expect(bobClosed.durationMs).toBeGreaterThanOrEqual(0);
    expect(closed.find((l) => l.identity === 'alice')).toMatchObject({ code: 1000, route: accepted[0]!.route });
    // Sampled: the first 5 refusals one by one, the others counted in the closed line.
    const refused = events(lines, 'call.refused');
    expect(refused).toHaveLength(5);
    expect(refused[0]).toMatchObject({ identity: 'bob', code: -32006, method: 'signal.publish', channel: 'elsewhere' });
    expect(bobClosed.refusals).toBeGreaterThanOrEqual(19);
    expect(bobClosed.suppressed).toBe(bobClosed.refusals - 5);
    expect(events(lines, 'connection.flood')).toEqual([expect.objectContaining({ identity: 'bob', code: 4429, level: 40 })]);
    const refusedAtDoor = events(lines, 'connection.refused');
    expect(refusedAtDoor).toEqual([expect.objectContaining({ code: 4401, reason: expect.stringMatching(/^invalid token/), level: 40 })]);
    expect(events(lines, 'broker.connected')).toHaveLength(1);
    // Never a token, a secret or a payload.
    const text = log.text();
    for (const secret of [SECRET, alice.jwt, bob.jwt, badJwt, PAYLOAD, alice.jwt.split('.')[2]!, badJwt.split('.')[2]!]) expect(text).not.toContain(secret);
  });

  it('a connection closed at its token\'s exp: 4401 with the reason, logged', { timeout: 20_000 }, async () => {
    const log = memoryLogger();
    const s = await start({ logger: log.logger });
    const jwt = await s.token('erin', 'd', { expiresIn: 2 });
    const c = await pool.connect(s.url, jwt);
    expect(await c.waitClose(8000)).toEqual({ code: 4401, reason: 'token expired' });
    await waitFor(() => events(log.lines(), 'connection.closed').length === 1, 3000);
    expect(events(log.lines(), 'connection.unauthorized')).toEqual([expect.objectContaining({ identity: 'erin', code: 4401, reason: 'token expired', level: 40 })]);
    expect(events(log.lines(), 'connection.closed')[0]).toMatchObject({ identity: 'erin', code: 4401 });
    expect(log.text()).not.toContain(jwt);
  });

  it('a slow consumer cut is logged and counted', { timeout: 60_000 }, async () => {
    const log = memoryLogger();
    const s = await start({
      logger: log.logger,
      limits: { bytesPerSecond: 1e12, byteBurst: 1e12, framesPerSecond: 1e6, frameBurst: 1e6, maxBufferedBytes: 1 << 20, maxBufferedHardBytes: 4 << 20 },
    });
    const blob = 'b'.repeat(60_000);
    const stuck = await raw(s, 'stuck');
    const pub = await raw(s, 'pub');
    for (const c of [stuck, pub]) {
      c.notify('signal.join', { id: 'fire' });
      await sleep(50);
    }
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let n = 0; n < 400 && s.server.stats().connections === 2; n++) {
      pub.notify('signal.publish', { id: 'fire', n, blob });
      if (n % 20 === 19) await sleep(20);
    }
    await waitFor(() => s.server.stats().connections === 1, 10_000, 'the stuck reader dropped');
    await waitFor(() => events(log.lines(), 'connection.slow_consumer').length === 1, 5000, 'the slow-consumer line');
    expect(events(log.lines(), 'connection.slow_consumer')[0]).toMatchObject({ identity: 'stuck', bufferedBytes: expect.any(Number), level: 40 });
    const { families } = await scrape(s.url);
    expect(valueOf(families, 'signal_slow_consumer_cuts_total')).toBe(1);
    expect(log.text()).not.toContain(blob.slice(0, 100));
  });
});

describe('metrics', () => {
  it('GET /metrics parses as Prometheus text and its counters move with traffic', async () => {
    const s = await start();
    const before = await scrape(s.url);
    expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(before.families, 'signal_connections')).toBe(0);
    for (const name of ['process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(before.families.has(name), name).toBe(true);

    const members = await Promise.all(['a', 'b', 'c'].map((id) => raw(s, id)));
    for (const m of members) {
      m.notify('signal.join', { id: 'room', presence: true });
      await waitFor(() => m.frames.some((f) => (f.json as any)?.method === 'signal.join' || (f.json as any)?.method === 'signal.join_back') || m === members[0], 3000);
    }
    await sleep(100);
    const pub = members[0]!;
    for (let i = 0; i < 32; i++) pub.notify('signal.publish', { id: 'room', n: i });
    pub.notify('signal.publish', { id: 'nowhere', n: 0 }); // refused: not joined
    pub.send('_ping');
    await waitFor(() => members[2]!.frames.filter((f) => (f.json as any)?.method === 'signal.publish').length === 32, 5000);
    await pub.drain(100);

    const after = await scrape(s.url);
    const f = after.families;
    expect(valueOf(f, 'signal_connections')).toBe(3);
    expect(valueOf(f, 'signal_channels')).toBe(1);
    expect(valueOf(f, 'signal_presence_members')).toBe(3);
    expect(valueOf(f, 'signal_connections_opened_total')).toBe(3);
    expect(valueOf(f, 'signal_frames_in_total', { method: 'join' })).toBe(3);
    expect(valueOf(f, 'signal_frames_in_total', { method: 'publish' })).toBe(33);
    expect(valueOf(f, 'signal_frames_in_total', { method: 'ping' })).toBe(1);
    expect(valueOf(f, 'signal_frames_out_total', { method: 'publish' })).toBe(64); // 32 publishes to 2 others
    expect(valueOf(f, 'signal_frames_out_total', { method: 'join_back' })).toBe(3);
    expect(valueOf(f, 'signal_frames_out_total', { method: 'pong' })).toBe(1);
    expect(valueOf(f, 'signal_frames_out_total', { method: 'error' })).toBe(1);
    expect(valueOf(f, 'signal_refusals_total', { code: '-32006' })).toBe(1);
    expect(valueOf(f, 'signal_bytes_in_total')).toBeGreaterThan(32 * 30);
    expect(valueOf(f, 'signal_bytes_out_total')).toBeGreaterThan(64 * 30);
    // Sampled one in 16 of all frames: some of the 33 publishes among ~40 frames were timed.
    expect(countOf(f, 'signal_fanout_seconds')).toBeGreaterThanOrEqual(1);
    expect(countOf(f, 'signal_fanout_size')).toBe(countOf(f, 'signal_fanout_seconds'));

    members[1]!.ws.close(1000);
    await waitFor(() => s.server.stats().connections === 2, 3000);
    const closed = await scrape(s.url);
    expect(valueOf(closed.families, 'signal_connections_closed_total', { code: '1000' })).toBe(1);
    expect(valueOf(closed.families, 'signal_frames_in_total', { method: 'publish' })).toBe(33); // counters do not double on a second scrape
  });

  it('each server has its own registry; metrics: false serves no /metrics', async () => {
    const a = await start();
    const b = await start({ metrics: false });
    const c = await start();
    await raw(a, 'x');
    await raw(a, 'y');
    await raw(c, 'z');
    expect(valueOf((await scrape(a.url)).families, 'signal_connections')).toBe(2);
    expect(valueOf((await scrape(c.url)).families, 'signal_connections')).toBe(1);
    expect((await fetch(`${b.url}/metrics`)).status).toBe(404);
    expect(b.server.metrics()).toBeNull();
  });
});

describe('health, readiness, origin, CORS, drain', () => {
  it('/healthz answers GET and HEAD; /readyz is 200 with its reason', async () => {
    const s = await start();
    const head = await fetch(`${s.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ ok: true, connections: 0, channels: 0 });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reason: 'ready' });
    expect((await fetch(`${s.url}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  it('allowedOrigins: another Origin gets 403 before any WebSocket; a listed one and none (not a browser) are let in', async () => {
    const log = memoryLogger();
    const s = await start({ allowedOrigins: ['https://app.example'], logger: log.logger });
    const jwt = await s.token('o', 'd');
    const url = `${s.url.replace('http', 'ws')}/signal/v1/pubsub?jwt=${jwt}`;
    const status = (origin?: string): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, origin ? { origin } : {});
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('error', () => {});
      });
    expect(await status('https://evil.example')).toBe(403);
    expect(await status('https://app.example')).toBe(101);
    expect(await status()).toBe(101);
    await waitFor(() => events(log.lines(), 'connection.refused').length === 1, 3000);
    expect(events(log.lines(), 'connection.refused')[0]).toMatchObject({ status: 403, origin: 'https://evil.example' });
    expect(log.text()).not.toContain(jwt);
  });

  it('corsOrigins: POST /token answers a listed Origin only', async () => {
    const s = await start({ devTokens: true, corsOrigins: ['https://app.example'] });
    const pre = (origin: string) => fetch(`${s.url}/token`, { method: 'OPTIONS', headers: { origin } });
    expect((await pre('https://app.example')).headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await pre('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const any = await start({ devTokens: true });
    expect((await fetch(`${any.url}/token`, { method: 'OPTIONS', headers: { origin: 'https://x.example' } })).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('drain: /readyz 503 and new upgrades 503 at once, connections closed with 1012 spread over the window', { timeout: 30_000 }, async () => {
    const log = memoryLogger();
    const s = await start({ logger: log.logger });
    const clients = await Promise.all(['p', 'q', 'r', 's'].map((id) => raw(s, id)));
    const closedAt: number[] = [];
    for (const c of clients) void c.closed.then(() => closedAt.push(Date.now()));
    const t0 = Date.now();
    const drained = s.server.drain({ ms: 1200 });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'draining' });
    const late = pool.add(rawSocket(s.url, await s.token('late', 'd')));
    await expect(late.opened).rejects.toThrow(/HTTP 503/);
    // A connection waiting for its turn still works meanwhile.
    const waiting = clients.filter((c) => c.closeCode === undefined);
    waiting[waiting.length - 1]!.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'during-drain' }, id: 7 });
    expect(await waiting[waiting.length - 1]!.next(3000)).toMatchObject({ id: 7, result: { id: 'during-drain' } });
    const result = await drained;
    expect(result.closed).toBe(4);
    await waitFor(() => closedAt.length === 4, 5000);
    for (const c of clients) expect(c.closeCode).toBe(1012);
    // Spread: one at once, the last about 3/4 of the window later.
    expect(Math.max(...closedAt) - Math.min(...closedAt)).toBeGreaterThanOrEqual(700);
    expect(Math.min(...closedAt) - t0).toBeLessThan(700);
    expect(events(log.lines(), 'drain.start')).toEqual([expect.objectContaining({ connections: 4, drainMs: 1200 })]);
    expect(events(log.lines(), 'drain.end')).toEqual([expect.objectContaining({ closed: 4 })]);
    expect(events(log.lines(), 'connection.closed').map((l) => l.code)).toEqual([1012, 1012, 1012, 1012]);
  });
});
