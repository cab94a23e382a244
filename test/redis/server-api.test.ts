/**
 * The server API across real server processes (CLI `serve --redis --api-key`), joined by one private redis-server:
 * clients spread over the processes, every call made on a process that holds none of its targets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Signal } from '../../src/client/signal.js';
import { SERVER_FROM } from '../../src/client/index.js';
import { createServerClient, type ServerClient } from '../../src/server/server-client.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { connectSignal, killAllSpawned, RawClient, seenMembers, spawnServer, type RedisServer, type ServerProcess, useRedisServer } from './helpers.js';

const SECRET = 'redis-server-api-secret';
const KEY = 'redis-api-key-0123456789';
let redis: RedisServer;
let procs: ServerProcess[] = [];
let raws: RawClient[] = [];
let sigs: Signal[] = [];

useRedisServer((r) => (redis = r));
afterEach(async () => {
  for (const c of raws) c.close();
  for (const s of sigs) s.dispose();
  raws = [];
  sigs = [];
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  procs = [];
  await killAllSpawned();
  const r = new Redis(redis.url);
  await r.flushall().finally(() => r.disconnect());
});

async function servers(n: number): Promise<ServerProcess[]> {
  const out = await Promise.all(Array.from({ length: n }, () => spawnServer(redis.url, SECRET, { SIGNAL_API_KEY: KEY })));
  procs.push(...out);
  return out;
}
async function raw(p: ServerProcess, identity: string, device = 'd'): Promise<RawClient> {
  const c = await RawClient.connect(p.url, SECRET, identity, device);
  raws.push(c);
  return c;
}
async function sig(p: ServerProcess, identity: string, device: string): Promise<Signal> {
  const s = await connectSignal(p.url, SECRET, identity, device);
  sigs.push(s);
  return s;
}
const api = (p: ServerProcess): ServerClient => createServerClient({ url: p.url, apiKey: KEY });
const closeOf = (c: RawClient): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => {
    if (!c.open) return resolve({ code: -1, reason: 'already closed' });
    c.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });

describe('server API across processes (Redis)', () => {
  it('one process over Redis: every call', async () => {
    const [a] = await servers(1);
    const m = await raw(a!, 'solo');
    await m.join('room');
    await api(a!).publish('room', { n: 1 });
    await waitFor(() => m.notes('signal.publish', 'room').length === 1, 5000, 'publish');
    await api(a!).send('solo', { n: 2 });
    await waitFor(() => m.notes('signal.send').length === 1, 5000, 'send');
    expect(m.notes('signal.send')[0]!.params).toEqual({ n: 2, from: SERVER_FROM, to: 'solo' });
    expect(await api(a!).channels()).toEqual([{ name: 'room', members: 1, presence: 1 }]);
    expect((await api(a!).presence('room')).map((x) => x.address)).toEqual([m.address]);
    await api(a!).unsubscribe('solo', 'room');
    await waitFor(() => m.notes('signal.unsubscribed', 'room').length === 1, 5000, 'unsubscribed');
    expect(await api(a!).channels()).toEqual([]);
    const closed = closeOf(m);
    await api(a!).disconnect('solo');
    expect((await closed).code).toBe(4403);
  });

  it('send reaches a user whose devices are on two processes; publish reaches members on all; from $server', async () => {
    const [a, b, c] = await servers(3);
    const phone = await raw(a!, 'bob', 'phone');
    const desk = await raw(b!, 'bob', 'desk');
    const carol = await raw(c!, 'carol', 'web');
    await api(c!).send('bob', { text: 'ring' });
    for (const x of [phone, desk]) await waitFor(() => x.notes('signal.send').length === 1, 5000, 'identity send');
    for (const x of [phone, desk]) expect(x.notes('signal.send')[0]!.params).toEqual({ text: 'ring', from: SERVER_FROM, to: 'bob' });
    await api(c!).send('bob/desk', { text: 'desk only' });
    await waitFor(() => desk.notes('signal.send').length === 2, 5000, 'device send');
    await phone.join('room', false);
    await desk.join('room');
    await carol.join('room');
    await api(a!).send(desk.address, { text: 'exact' }); // an endpoint held by another process
    await waitFor(() => desk.notes('signal.send').length === 3, 5000, 'endpoint send');

    await api(a!).publish('room', { text: 'to all' });
    for (const x of [phone, desk, carol]) {
      await waitFor(() => x.notes('signal.publish', 'room').length === 1, 5000, 'publish on every process');
      expect(x.notes('signal.publish', 'room')[0]!.params).toEqual({ text: 'to all', id: 'room', from: SERVER_FROM });
    }
    await sleep(300);
    expect(phone.notes('signal.send').map((f) => f.params!.text)).toEqual(['ring']);
    expect(desk.notes('signal.send').map((f) => f.params!.text)).toEqual(['ring', 'desk only', 'exact']);
    expect(carol.notes('signal.send')).toEqual([]);
    for (const x of [phone, desk, carol]) expect(x.notes('signal.publish', 'room')).toHaveLength(1);
  });

  it('presence and channels aggregate every process', async () => {
    const [a, b, c] = await servers(3);
    const m1 = await raw(a!, 'm1');
    const m2 = await raw(b!, 'm2');
    const quiet = await raw(b!, 'quiet');
    const m3 = await raw(c!, 'm3');
    await m1.join('room');
    m1.notify('signal.publish', { id: 'room', state: { n: 1 } });
    await m2.join('room');
    await quiet.join('room', false);
    await m3.join('lobby');
    await m2.join('lobby', false);
    let pres = await api(c!).presence('room');
    for (let i = 0; i < 100 && !(pres.length === 2 && pres.some((p) => p.state !== undefined)); i++) {
      await sleep(30);
      pres = await api(c!).presence('room');
    }
    expect(pres).toEqual(
      [
        { address: m1.address, identity: 'm1', device: 'd', state: { n: 1 } },
        { address: m2.address, identity: 'm2', device: 'd' },
      ].sort((x, y) => (x.address < y.address ? -1 : 1)),
    );
    for (const p of [a!, b!, c!]) {
      expect(await api(p).channels()).toEqual([
        { name: 'lobby', members: 2, presence: 1 },
        { name: 'room', members: 3, presence: 2 },
      ]);
    }
  });

  it('disconnect a target on another process: closed with the code and reason, peers elsewhere see it leave', async () => {
    const [a, b, c] = await servers(3);
    const target = await raw(a!, 'mallory', 'web');
    const target2 = await raw(b!, 'mallory', 'phone');
    const peer = await raw(b!, 'peer');
    await target.join('room');
    await target2.join('room');
    await peer.join('room');
    await waitFor(() => seenMembers(peer, 'room').length === 2, 5000, 'peer sees both');
    const closes = [closeOf(target), closeOf(target2)];
    await api(c!).disconnect('mallory', { reason: 'banned' });
    expect(await Promise.all(closes)).toEqual([
      { code: 4403, reason: 'banned' },
      { code: 4403, reason: 'banned' },
    ]);
    await waitFor(() => seenMembers(peer, 'room').length === 0, 5000, 'peer sees them leave');
    expect(peer.open).toBe(true);
  });

  it('unsubscribe a target on another process: peers see it leave; our client marks the channel left and never rejoins', async () => {
    const [a, b, c] = await servers(3);
    const alice = await sig(a!, 'alice', 'web');
    const bob = await raw(b!, 'bob');
    const ca = alice.join('room', { presence: true });
    const keep = alice.join('keep', { presence: true });
    await Promise.all([ca.ready, keep.ready]);
    await bob.join('room');
    await waitFor(() => ca.participants.size === 1, 5000, 'alice sees bob');
    await api(c!).unsubscribe('alice/web', 'room', { reason: 'moderated' });
    await waitFor(() => ca.status === 'left', 5000, 'channel left');
    expect(ca.reason).toBe('moderated');
    await waitFor(() => seenMembers(bob, 'room').length === 0, 5000, 'bob sees alice leave');
    // A reconnect (disconnected with a code our client retries on) rejoins `keep`, never `room`.
    await api(c!).disconnect('alice', { code: 4001 });
    await waitFor(() => alice.state !== 'open', 5000, 'dropped');
    await waitFor(() => alice.state === 'open' && keep.status === 'joined', 15_000, 'back');
    await sleep(500);
    expect((await api(b!).presence('room')).map((m) => m.identity)).toEqual(['bob']);
    expect((await api(b!).presence('keep')).map((m) => m.identity)).toEqual(['alice']);
    expect(bob.froms('signal.join', 'room')).toEqual([]);
  });
});
