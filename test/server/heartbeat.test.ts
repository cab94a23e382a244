/**
 * The heartbeat (src/server/heartbeat.ts): any frame is a sign of life, only the silent are pinged, the checks are
 * spread over ticks, and a frozen client still leaves presence within 15 s on the default settings.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { CYCLE_MS, Heartbeat, SLOTS, pingAfter, type Beating } from '../../src/server/heartbeat.js';
import { DEFAULT_LIMITS } from '../../src/protocol/constants.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawClient, RawPool } from '../compat/raw-client.js';
import { sleep, waitFor } from '../helpers/wait.js';

let srv: TestServer | undefined;
const pool = new RawPool();
afterEach(async () => {
  vi.useRealTimers();
  pool.closeAll();
  await srv?.close();
  srv = undefined;
});

/** A raw client that counts the WebSocket pings it receives; `autoPong: false` makes it a frozen peer. */
async function counted(s: TestServer, identity: string, autoPong = true): Promise<RawClient & { pings: number }> {
  const jwt = await s.token(identity, 'd');
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/signal/v1/pubsub?jwt=${jwt}`, { autoPong });
  const c = Object.assign(pool.add(new RawClient(ws)), { pings: 0 });
  ws.on('ping', () => c.pings++);
  await c.opened;
  return c;
}

describe('heartbeat over real sockets', () => {
  it('an active client is never pinged; a silent one is, and stays; one that never answers is dropped', { timeout: 30_000 }, async () => {
    // Short settings: pinged after 1 s of silence, dropped after 2 s.
    srv = await startTestServer({ limits: { pingIntervalMs: 1000, pongTimeoutMs: 2000 } });
    const active = await counted(srv, 'active');
    const idle = await counted(srv, 'idle');
    const frozen = await counted(srv, 'frozen', false);
    // The active client sends a frame every 200 ms for 4 s: `_ping`s and publishes alternately.
    active.notify('signal.join', { id: 'room' });
    for (let i = 0; i < 20; i++) {
      active.send(i % 2 ? '_ping' : JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'room', n: i } }));
      await sleep(200);
    }
    expect(active.pings).toBe(0);
    expect(active.isOpen).toBe(true);
    // The idle one was pinged (about every 1-1.25 s) and, answering, stayed.
    expect(idle.pings).toBeGreaterThanOrEqual(2);
    expect(idle.isOpen).toBe(true);
    // The frozen one was pinged once, never answered, and was dropped.
    await frozen.waitClose(5000);
    expect(frozen.pings).toBeGreaterThanOrEqual(1);
    await waitFor(() => srv!.server.stats().connections === 2, 3000, 'two connections left');
  });

  it('a frozen presence member (paused TCP socket) leaves presence within 15 s on the default settings', { timeout: 40_000 }, async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const ca = alice.join('room', { presence: true });
    await ca.ready;
    const raw = await counted(srv, 'sleeper');
    raw.notify('signal.join', { id: 'room', presence: true });
    await waitFor(() => ca.participants.size === 1, 3000, 'the sleeper to join');
    // Stop reading: pings are never answered, nothing is sent, the TCP link stays up.
    (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const t0 = Date.now();
    await waitFor(() => ca.participants.size === 0, 25_000, 'the sleeper to leave');
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThan(DEFAULT_LIMITS.pingIntervalMs); // the silence had to be noticed
    expect(ms).toBeLessThanOrEqual(15_000);
    expect(alice.state).toBe('open'); // our client (sending nothing for 25 s, answering pings) stays
  });
});

describe('Heartbeat wheel', () => {
  interface Sock extends Beating {
    id: number;
  }
  const sock = (id: number, seen: number): Sock => ({ id, seen, pinged: 0, hbBucket: -1, hbSlot: -1 });

  it('checks one bucket per tick: pings of many silent sockets are spread over the cycle, each pinged once', () => {
    vi.useFakeTimers();
    const t0 = Date.now();
    const clock = (): number => Date.now() - t0; // faked: moves with advanceTimersByTime
    const perTick: number[] = [];
    let tickPings = 0;
    const pinged = new Set<number>();
    const limits = { pingIntervalMs: 5000, pongTimeoutMs: 13_000 };
    const hb = new Heartbeat<Sock>(limits, { ping: (t) => (pinged.add(t.id), tickPings++), terminate: () => {} }, clock);
    for (let i = 0; i < 1000; i++) hb.add(sock(i, 0));
    expect(hb.size).toBe(1000);
    const tick = CYCLE_MS / SLOTS;
    vi.advanceTimersByTime(pingAfter(limits) - tick);
    expect(pinged.size).toBe(0); // nobody is due yet
    // Two whole cycles past the ping point, tick by tick.
    for (let t = 0; t < SLOTS * 2; t++) {
      tickPings = 0;
      vi.advanceTimersByTime(tick);
      perTick.push(tickPings);
    }
    expect(pinged.size).toBe(1000); // every silent socket pinged
    expect(hb.pings).toBe(1000); // once each: a pinged socket is not pinged again before it answers
    expect(Math.max(...perTick)).toBe(100); // one bucket (a tenth) per tick, never all at once
    hb.stop();
  });

  it('a socket that showed life is not pinged; a silent one past the deadline is dropped; remove is O(1) and exact', () => {
    vi.useFakeTimers();
    let now = 0;
    const pinged: number[] = [];
    const dropped: number[] = [];
    const limits = { pingIntervalMs: 5000, pongTimeoutMs: 13_000 };
    const hb = new Heartbeat<Sock>(limits, { ping: (t) => pinged.push(t.id), terminate: (t) => dropped.push(t.id) }, () => now);
    const a = sock(1, 0); // active: shows life every second
    const b = sock(2, 0); // idle but answering: its pong comes 100 ms after each ping
    const c = sock(3, 0); // frozen
    const d = sock(4, 0); // removed (closed) early
    for (const s of [a, b, c, d]) hb.add(s);
    hb.remove(d);
    expect(hb.size).toBe(3);
    for (let ms = 0; ms < 20_000; ms += 50) {
      now = ms;
      if (ms % 1000 === 0) a.seen = now;
      if (b.pinged > b.seen && now - b.pinged >= 100) b.seen = now;
      vi.advanceTimersByTime(50);
    }
    expect(pinged.filter((id) => id === 1)).toEqual([]);
    expect(pinged.filter((id) => id === 2).length).toBeGreaterThanOrEqual(2);
    expect(pinged.filter((id) => id === 3)).toEqual([3]);
    expect(pinged).not.toContain(4);
    expect(dropped).toEqual([3]); // at 13-13.5 s of silence
    expect(hb.size).toBe(2);
    hb.stop();
  });
  it('a busy server drops nobody for its own delay: a late ping gets its whole answer time, a pong read after a stall counts', async () => {
    // setImmediate stays real: a drop waits for one (after the poll phase, where a waiting pong is read).
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    let now = 0;
    const pinged: [number, number][] = [];
    const dropped: number[] = [];
    const limits = { pingIntervalMs: 5000, pongTimeoutMs: 13_000 };
    const hb = new Heartbeat<Sock>(limits, { ping: (t) => pinged.push([t.id, now]), terminate: (t) => dropped.push(t.id) }, () => now);
    const a = sock(1, 0); // its ping goes out late: the server was stalled until 12 s
    hb.add(a);
    now = 12_000;
    vi.advanceTimersByTime(CYCLE_MS);
    expect(pinged).toEqual([[1, 12_000]]);
    now = 14_000; // silent past 13 s, but its ping is 2 s old of the 5 s it has
    vi.advanceTimersByTime(CYCLE_MS);
    await new Promise((r) => setImmediate(r));
    expect(dropped).toEqual([]);
    now = 17_500; // still silent 5.5 s after its ping: dropped
    vi.advanceTimersByTime(CYCLE_MS);
    await new Promise((r) => setImmediate(r));
    expect(dropped).toEqual([1]);

    const b = sock(2, 17_500); // answers, but the server reads the pong only after a stall
    const c = sock(3, 17_500); // never answers
    hb.add(b);
    hb.add(c);
    now = 26_000;
    vi.advanceTimersByTime(CYCLE_MS); // both pinged at 26 s
    now = 40_000; // the server stalled from 26 s to 40 s; b's pong came meanwhile, still unread
    vi.advanceTimersByTime(CYCLE_MS);
    expect(dropped).toEqual([1]); // not in the tick itself
    b.seen = now; // the poll phase reads b's pong
    await new Promise((r) => setImmediate(r));
    expect(dropped).toEqual([1, 3]);
    expect(hb.size).toBe(1);
    hb.stop();
  });
});
