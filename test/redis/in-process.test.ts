import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisBroker } from '../../src/server/redis-broker.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { RawClient, seenMembers, startRedisServer, type RedisServer } from './helpers.js';

const SECRET = 'redis-in-process-secret';
let redis: RedisServer;
let servers: TestServer[] = [];
let raws: RawClient[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.kill();
});
afterEach(async () => {
  for (const c of raws) c.close();
  raws = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function nodes(n: number, ttlMs = 10_000): Promise<TestServer[]> {
  const out: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await startTestServer({ secret: SECRET, broker: new RedisBroker({ url: redis.url, ttlMs }) }));
  }
  servers.push(...out);
  return out;
}

async function raw(srv: TestServer, identity: string, device: string): Promise<RawClient> {
  const c = await RawClient.connect(srv.url, SECRET, identity, device);
  raws.push(c);
  return c;
}

describe('RedisBroker: several servers in one process, real Redis, real clients', () => {
  it('direct messages reach identity, identity/device and identity/device/route on another server', async () => {
    const [a, b, c] = await nodes(3);
    const alice = await a!.connect('alice', 'web');
    const bobPhone = await raw(b!, 'bob', 'phone');
    const bobDesk = await raw(c!, 'bob', 'desk');
    const bobDesk2 = await raw(b!, 'bob', 'desk');
    // Learn bobDesk's full address from a DM it sends.
    const got: { from: string; text?: string }[] = [];
    alice.on('message', (m) => got.push(m as { from: string; text?: string }));

    alice.send({ to: 'bob', text: 'all' });
    for (const x of [bobPhone, bobDesk, bobDesk2]) await waitFor(() => x.notes('signal.send').length === 1, 5000, 'dm to identity');

    alice.send({ to: 'bob/desk', text: 'desk' });
    await waitFor(() => bobDesk.notes('signal.send').length === 2 && bobDesk2.notes('signal.send').length === 2, 5000, 'dm to device');

    bobDesk.notify('signal.send', { to: 'alice', text: 'from desk' });
    await waitFor(() => got.length === 1, 5000, 'reply');
    expect(got[0]!.from).toMatch(/^bob\/desk\/.+/);
    const deskAddr = got[0]!.from;
    // Reply to the exact endpoint: only that connection (on server c) gets it.
    alice.send({ to: deskAddr, text: 'exact' });
    await waitFor(() => bobDesk.notes('signal.send').length === 3, 5000, 'dm to route');
    await sleep(300);
    expect(bobDesk2.notes('signal.send').map((f) => f.params!.text)).toEqual(['all', 'desk']);
    expect(bobPhone.notes('signal.send').map((f) => f.params!.text)).toEqual(['all']);
    expect(bobDesk.notes('signal.send')[2]!.params).toMatchObject({ from: expect.stringMatching(/^alice\/web\//), to: deskAddr, text: 'exact' });
    expect(bobDesk.notes('signal.send')[0]!.params!.id).toBeUndefined();
  });

  it('publish reaches members on every server, once each, never the sender', async () => {
    const [a, b, c] = await nodes(3);
    const members = [await raw(a!, 'u1', 'd'), await raw(a!, 'u2', 'd'), await raw(b!, 'u3', 'd'), await raw(c!, 'u4', 'd')];
    for (const m of members) await m.join('room', false);
    members[2]!.notify('signal.publish', { id: 'room', text: 'hello' });
    for (const m of [members[0]!, members[1]!, members[3]!]) {
      await waitFor(() => m.notes('signal.publish', 'room').length === 1, 5000, 'publish');
    }
    await sleep(300);
    expect(members[2]!.notes('signal.publish')).toHaveLength(0);
    for (const m of [members[0]!, members[1]!, members[3]!]) {
      expect(m.notes('signal.publish', 'room')).toHaveLength(1);
      expect(m.notes('signal.publish', 'room')[0]!.params).toMatchObject({ id: 'room', text: 'hello', from: members[2]!.address });
    }
  });

  it('presence: join, exactly one join_back per member wherever connected, state replay, leave', async () => {
    const [a, b, c] = await nodes(3);
    const p1 = await raw(a!, 'p1', 'd');
    const p2 = await raw(b!, 'p2', 'd');
    await p1.join('lobby');
    p1.notify('signal.publish', { id: 'lobby', state: { name: 'P1' } });
    await p2.join('lobby');
    await waitFor(() => p1.froms('signal.join', 'lobby').length === 1, 5000, 'p1 sees p2 join');
    p2.notify('signal.publish', { id: 'lobby', state: { name: 'P2', v: 1 } });
    p2.notify('signal.publish', { id: 'lobby', state: { name: 'P2', v: 2 } });
    await waitFor(() => p1.notes('signal.publish', 'lobby').length === 2, 5000, 'state updates');

    // A late joiner on a third server.
    const p3 = await raw(c!, 'p3', 'd');
    await p3.join('lobby');
    await sleep(300);
    expect(p3.froms('signal.join_back', 'lobby').sort()).toEqual([p1.address, p2.address].sort());
    const replay = p3.notes('signal.send', 'lobby').map((f) => f.params);
    expect(replay).toHaveLength(2);
    expect(replay).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ from: p1.address, to: p3.address, state: { name: 'P1' } }),
        expect.objectContaining({ from: p2.address, to: p3.address, state: { name: 'P2', v: 2 } }),
      ]),
    );
    for (const x of [p1, p2]) await waitFor(() => x.froms('signal.join', 'lobby').includes(p3.address), 5000, 'join of p3');
    expect(p1.froms('signal.join', 'lobby')).toEqual([p2.address, p3.address]);
    expect(p2.froms('signal.join', 'lobby')).toEqual([p3.address]);
    expect(p2.froms('signal.join_back', 'lobby')).toEqual([p1.address]);

    await p2.request('signal.leave', { id: 'lobby' });
    for (const x of [p1, p3]) await waitFor(() => x.froms('signal.leave', 'lobby').length === 1, 5000, 'leave');
    expect(p1.froms('signal.leave', 'lobby')).toEqual([p2.address]);
    expect(seenMembers(p3, 'lobby')).toEqual([p1.address]);

    // A socket drop leaves too.
    p1.close();
    await waitFor(() => seenMembers(p3, 'lobby').length === 0, 5000, 'drop leaves');
  });

  it('a server that closes gracefully removes its members from every roster at once', async () => {
    const [a, b] = await nodes(2);
    const stay = await raw(a!, 'stay', 'd');
    await stay.join('g');
    const goers = [await raw(b!, 'go1', 'd'), await raw(b!, 'go2', 'd')];
    for (const g of goers) await g.join('g');
    await waitFor(() => seenMembers(stay, 'g').length === 2, 5000, 'joins');
    const t0 = Date.now();
    await b!.close();
    servers = servers.filter((s) => s !== b);
    await waitFor(() => seenMembers(stay, 'g').length === 0, 3000, 'leaves on close');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(stay.froms('signal.leave', 'g').sort()).toEqual(goers.map((g) => g.address).sort());
    // Nothing of b stays in Redis.
    const r = new Redis(redis.url);
    try {
      expect(await r.hkeys('sig:roster:g')).toEqual([stay.address]);
    } finally {
      r.disconnect();
    }
  });

  it('accepts an existing ioredis client (duplicated, never closed) and a custom prefix', async () => {
    const mine = new Redis(redis.url);
    try {
      const mk = (): Promise<TestServer> => startTestServer({ secret: SECRET, broker: new RedisBroker({ redis: mine, prefix: 'custom:' }) });
      const [a, b] = [await mk(), await mk()];
      servers.push(a, b);
      const x = await raw(a, 'x', 'd');
      const y = await raw(b, 'y', 'd');
      await x.join('p');
      await y.join('p');
      await waitFor(() => seenMembers(x, 'p').length === 1, 5000, 'join across');
      expect(await mine.hkeys('custom:roster:p')).toHaveLength(2);
      expect(await mine.exists('sig:roster:p')).toBe(0);
      await Promise.all([a.close(), b.close()]);
      servers = servers.filter((s) => s !== a && s !== b);
      expect(mine.status).toBe('ready');
      expect(await mine.exists('custom:roster:p')).toBe(0);
    } finally {
      mine.disconnect();
    }
  });

  it('subscribes a Redis channel only while a local member needs it', async () => {
    const [a] = await nodes(1);
    const r = new Redis(redis.url);
    try {
      const chans = async (): Promise<string[]> => ((await r.pubsub('CHANNELS', 'sig:*')) as string[]).sort();
      const x = await raw(a!, 'solo', 'd');
      await x.join('only-here', false);
      expect(await chans()).toEqual(['sig:ch:only-here', 'sig:id:solo']);
      await x.request('signal.leave', { id: 'only-here' });
      const deadline = Date.now() + 3000;
      while ((await chans()).includes('sig:ch:only-here') && Date.now() < deadline) await sleep(20);
      expect(await chans()).toEqual(['sig:id:solo']);
      x.close();
      while ((await chans()).length && Date.now() < deadline + 3000) await sleep(20);
      expect(await chans()).toEqual([]);
    } finally {
      r.disconnect();
    }
  });
});

describe('RedisBroker: Redis unreachable when the servers start', () => {
  it('servers start and deliver locally, then work across once Redis is reachable', async () => {
    const late = await startRedisServer();
    const port = late.port;
    await late.kill(); // the port is now free: nothing listens there
    try {
      const mk = (): Promise<TestServer> =>
        startTestServer({ secret: SECRET, broker: new RedisBroker({ url: `redis://127.0.0.1:${port}`, readyTimeoutMs: 300 }) });
      const [a, b] = await Promise.all([mk(), mk()]);
      servers.push(a, b);
      const x1 = await raw(a, 'x1', 'd');
      const x2 = await raw(a, 'x2', 'd');
      const y = await raw(b, 'y', 'd');
      for (const c of [x1, x2, y]) await c.join('boot');
      x1.notify('signal.publish', { id: 'boot', text: 'local' });
      await waitFor(() => x2.notes('signal.publish', 'boot').length === 1, 3000, 'local publish without redis');
      await late.start();
      // Presence reconciles: every member sees the other two.
      for (const c of [x1, x2, y]) {
        await waitFor(() => seenMembers(c, 'boot').length === 2, 15_000, `roster of ${c.address}`);
      }
      y.notify('signal.publish', { id: 'boot', text: 'across' });
      await waitFor(() => x1.notes('signal.publish', 'boot').some((f) => f.params!.text === 'across'), 5000, 'publish across');
      expect(x2.notes('signal.publish', 'boot').map((f) => f.params!.text)).toEqual(['local', 'across']);
    } finally {
      await late.kill();
    }
  }, 40_000);
});

describe('RedisBroker: a node whose heartbeat lapsed (a stall) heals itself', () => {
  it('its reaped members come back everywhere once it is heard from again', async () => {
    const a = await startTestServer({ secret: SECRET, broker: new RedisBroker({ url: redis.url, ttlMs: 3000 }) });
    // The victim's heartbeat would only be refreshed in a minute: deleting its key is what a long stall does.
    const b = await startTestServer({ secret: SECRET, broker: new RedisBroker({ url: redis.url, ttlMs: 3000, heartbeatMs: 60_000 }) });
    servers.push(a, b);
    const watcher = await raw(a, 'watcher', 'd');
    const victim = await raw(b, 'victim', 'd');
    await watcher.join('stall');
    await victim.join('stall');
    await waitFor(() => seenMembers(watcher, 'stall').length === 1, 5000, 'join');
    const r = new Redis(redis.url);
    try {
      await r.del(`sig:node:${b.server.core.nodeId}`);
      // a's sweep reaps the victim (leave delivered), b notices and rewrites its entry (join delivered again).
      await waitFor(() => watcher.froms('signal.leave', 'stall').length === 1, 5000, 'reaped');
      await waitFor(() => watcher.froms('signal.join', 'stall').length === 2, 5000, 'healed');
      expect(seenMembers(watcher, 'stall')).toEqual([victim.address]);
      expect(await r.hkeys('sig:roster:stall')).toEqual(expect.arrayContaining([victim.address, watcher.address]));
      expect(await r.exists(`sig:node:${b.server.core.nodeId}`)).toBe(1);
      // The victim itself was never told that anyone left.
      expect(victim.notes('signal.leave')).toHaveLength(0);
      expect(seenMembers(victim, 'stall')).toEqual([watcher.address]);
      await sleep(1500); // two more sweeps: it stays
      expect(seenMembers(watcher, 'stall')).toEqual([victim.address]);
    } finally {
      r.disconnect();
    }
  }, 30_000);
});

describe('RedisBroker: anti-entropy', () => {
  /** Two nodes (TTL 2 s: anti-entropy every 1 s, a full pass every 12 s), a watcher on a and a member on b in `channel`. */
  async function watchedPair(channel: string) {
    const [a, b] = await nodes(2, 2000);
    const watcher = await raw(a!, 'watcher', 'd');
    const other = await raw(b!, 'other', 'd');
    await watcher.join(channel);
    await other.join(channel);
    await waitFor(() => seenMembers(watcher, channel).length === 1, 5000, 'join');
    return { b: b!, watcher, other };
  }

  it('a join and a leave whose pub/sub messages were lost are corrected within reconcileMs', async () => {
    const { b, watcher, other } = await watchedPair('ae');
    // A member of b (alive node) written to the roster the way a node writes it (the entry, then a new roster
    // version) but with no pub/sub message at all: a lost join.
    const ghost = 'ghost/d/lost1';
    const r = new Redis(redis.url);
    try {
      await r.multi().hset('sig:roster:ae', ghost, JSON.stringify({ node: b.server.core.nodeId, state: { n: 1 } })).set('sig:rv:ae', 'test:1').exec();
      await waitFor(() => seenMembers(watcher, 'ae').includes(ghost), 4000, 'lost join corrected');
      expect(watcher.frames.some((f) => f.params?.from === ghost && JSON.stringify(f.params?.state) === '{"n":1}')).toBe(true);
      // And removed with no pub/sub message: a lost leave.
      await r.multi().hdel('sig:roster:ae', ghost).set('sig:rv:ae', 'test:2').exec();
      await waitFor(() => !seenMembers(watcher, 'ae').includes(ghost), 4000, 'lost leave corrected');
      expect(watcher.froms('signal.join', 'ae').filter((x) => x === ghost)).toHaveLength(1);
      expect(watcher.froms('signal.leave', 'ae').filter((x) => x === ghost)).toHaveLength(1);
      // The real member was never touched.
      await sleep(1200);
      expect(seenMembers(watcher, 'ae')).toEqual([other.address]);
      expect(watcher.froms('signal.leave', 'ae')).toEqual([ghost]);
    } finally {
      r.disconnect();
    }
  }, 30_000);

  it('an entry written without a new roster version (not by a node) is still found by the periodic full pass', async () => {
    const { b, watcher } = await watchedPair('ae2');
    const ghost = 'ghost/d/lost2';
    const r = new Redis(redis.url);
    try {
      await r.hset('sig:roster:ae2', ghost, JSON.stringify({ node: b.server.core.nodeId }));
      await waitFor(() => seenMembers(watcher, 'ae2').includes(ghost), 20_000, 'unversioned join found by a full pass');
    } finally {
      r.disconnect();
    }
  }, 40_000);

  it('an idle cluster reads no roster for anti-entropy: only the versions of the rosters it follows', async () => {
    const [a, b] = await nodes(2, 2000); // anti-entropy every 1 s, a full pass only every 12 s
    const channels = Array.from({ length: 20 }, (_, i) => `idle${i}`);
    for (const [i, srv] of [a!, b!].entries()) {
      const c = await raw(srv, `m${i}`, 'd');
      for (const ch of channels) await c.join(ch);
    }
    const watcher = raws[0]!;
    await waitFor(() => channels.every((ch) => seenMembers(watcher, ch).length === 1), 5000, 'every roster complete');
    const r = new Redis(redis.url);
    const calls = async (cmd: string): Promise<number> => Number(/calls=(\d+)/.exec((await r.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${cmd}:`)) ?? '')?.[1] ?? 0);
    try {
      // The first pass after the joins re-reads every roster once (each changed since a node last read it: the other
      // node's member joined after); from then on nothing changes.
      await sleep(1500);
      const [h0, m0] = [await calls('hgetall'), await calls('mget')];
      await sleep(3500); // three or four anti-entropy passes on each node
      const [h1, m1] = [await calls('hgetall'), await calls('mget')];
      // Before roster versions, each pass re-read all 20 rosters on both nodes: about 140 HGETALLs here.
      expect(h1 - h0).toBe(0);
      expect(m1 - m0).toBeGreaterThan(4); // the sweeps ran (MGETs of heartbeats and, each second, of versions)
      expect(channels.every((ch) => seenMembers(watcher, ch).length === 1)).toBe(true);
    } finally {
      r.disconnect();
    }
  }, 30_000);
});
