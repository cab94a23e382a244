import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { channelTopic, type BrokerHandlers, type BrokerLink } from '../../src/server/broker.js';
import { RedisBroker } from '../../src/server/redis-broker.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { killAllSpawned, RawClient, seenMembers, spawnServer, type RedisServer, type ServerProcess, useRedisServer } from './helpers.js';

// A Redis restart (no persistence: it comes back empty) must never announce a member as leaving when it did not
// leave: clients delete a participant on `signal.leave` (an app hangs up its call). Every node rewrites its own
// entries when it reconnects, but not all at the same instant: the first one back reads a roster that lacks the
// others' members (and their heartbeat keys), which is not proof that they left.

const SECRET = 'redis-restart-secret';
let redis: RedisServer;
let servers: TestServer[] = [];
let procs: ServerProcess[] = [];
let raws: RawClient[] = [];

useRedisServer((r) => (redis = r));
afterEach(async () => {
  for (const c of raws) c.close();
  raws = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  procs = [];
  await killAllSpawned();
  if (!redis.running) await redis.start();
  const r = new Redis(redis.url);
  await r.flushall().finally(() => r.disconnect());
});

async function nodes(n: number, ttlMs: number): Promise<TestServer[]> {
  const out = await Promise.all(
    Array.from({ length: n }, () => startTestServer({ secret: SECRET, broker: new RedisBroker({ url: redis.url, ttlMs }) })),
  );
  servers.push(...out);
  return out;
}

async function raw(url: string, identity: string): Promise<RawClient> {
  const c = await RawClient.connect(url, SECRET, identity, 'd');
  raws.push(c);
  return c;
}

/** Every client's view of `ch` is exactly the other clients, each announced once (join or join_back), none ever left. */
function expectStable(clients: RawClient[], ch: string, label: string): void {
  for (const x of clients) {
    const others = clients.filter((y) => y !== x).map((y) => y.address).sort();
    const leaves = x.froms('signal.leave', ch);
    expect(leaves, `${label}: ${x.address} was told these members left`).toEqual([]);
    const announced = [...x.froms('signal.join', ch), ...x.froms('signal.join_back', ch)].sort();
    expect(announced, `${label}: joins seen by ${x.address}`).toEqual(others);
    expect(seenMembers(x, ch), `${label}: roster of ${x.address}`).toEqual(others);
  }
}

/** Wait until Redis holds every member of `ch` and every listed node's heartbeat again, then let resyncs settle. */
async function converged(addresses: string[], ch: string, nodeIds: string[], settleMs: number): Promise<void> {
  const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const keys = ((await r.hkeys(`sig:roster:${ch}`).catch(() => [])) as string[]).sort();
      const beats = nodeIds.length ? await r.exists(...nodeIds.map((n) => `sig:node:${n}`)).catch(() => 0) : 0;
      if (JSON.stringify(keys) === JSON.stringify([...addresses].sort()) && beats === nodeIds.length) break;
      if (Date.now() > deadline) throw new Error(`Redis did not converge: roster ${JSON.stringify(keys)}, ${beats}/${nodeIds.length} heartbeats`);
      await sleep(50);
    }
  } finally {
    r.disconnect();
  }
  await sleep(settleMs);
}

describe('RedisBroker: a Redis restart never announces a member who did not leave', () => {
  it('three nodes, two presence members each: no leave and no second join through four restarts', { timeout: 60_000 }, async () => {
    const ttlMs = 4000;
    const ns = await nodes(3, ttlMs);
    const clients: RawClient[] = [];
    for (const [i, n] of ns.entries()) for (const k of [0, 1]) clients.push(await raw(n.url, `n${i}m${k}`));
    for (const c of clients) await c.join('rs');
    for (const x of clients) await waitFor(() => seenMembers(x, 'rs').length === clients.length - 1, 5000, `joins at ${x.address}`);
    expectStable(clients, 'rs', 'before');
    const ids = ns.map((n) => n.server.core.nodeId);
    for (let round = 1; round <= 4; round++) {
      // SIGTERM or SIGKILL, back after a short or a longer outage (the nodes' reconnect backoffs then differ more).
      await (round % 2 ? redis.stop() : redis.kill());
      await sleep(round <= 2 ? 100 : 900);
      await redis.start();
      // A reconcile tick (ttl/2) and two sweeps after everything is back: any wrong leave would have happened.
      await converged(clients.map((c) => c.address), 'rs', ids, ttlMs / 2 + 1000);
      expectStable(clients, 'rs', `after restart ${round}`);
    }
  }, 90_000);

  it('a node that dies during the outage: its members leave within a bounded time, the others never do', async () => {
    const ttlMs = 3000;
    const [a, b, c] = await nodes(3, ttlMs);
    const stay = [await raw(a!.url, 'stay-a'), await raw(b!.url, 'stay-b')];
    const doomed = [await raw(c!.url, 'doomed1'), await raw(c!.url, 'doomed2')];
    for (const x of [...stay, ...doomed]) await x.join('dd');
    for (const x of stay) await waitFor(() => seenMembers(x, 'dd').length === 3, 5000, `joins at ${x.address}`);
    await redis.stop();
    // The node goes while Redis is away: nothing it does reaches Redis (as if SIGKILLed).
    await c!.close();
    servers = servers.filter((s) => s !== c);
    await sleep(300);
    await redis.start();
    const t0 = Date.now();
    const gone = doomed.map((d) => d.address).sort();
    for (const x of stay) {
      await waitFor(() => gone.every((g) => x.froms('signal.leave', 'dd').includes(g)), 3 * ttlMs + 5000, `leaves at ${x.address}`);
    }
    const ms = Date.now() - t0;
    console.log(`node dead during a Redis outage: its members left ${ms} ms after Redis came back (TTL ${ttlMs} ms)`);
    // Within the TTL from the first roster read that missed them, plus a sweep and a round trip (and a reconnect).
    expect(ms).toBeLessThan(ttlMs + ttlMs / 5 + 3000);
    await sleep(ttlMs / 2 + 500);
    for (const x of stay) {
      expect(x.froms('signal.leave', 'dd').sort()).toEqual(gone); // each exactly once, and only them
      const other = stay.find((y) => y !== x)!;
      expect([...x.froms('signal.join', 'dd'), ...x.froms('signal.join_back', 'dd')].filter((f) => f === other.address)).toHaveLength(1);
      expect(seenMembers(x, 'dd')).toEqual([other.address]);
    }
  }, 60_000);
});

describe('RedisBroker: a Redis restart across real server processes', () => {
  it('three processes: no member is announced as leaving, through three restarts', { timeout: 60_000 }, async () => {
    const ttlMs = 4000;
    procs = await Promise.all([0, 1, 2].map(() => spawnServer(redis.url, SECRET, { SIGNAL_REDIS_TTL_MS: String(ttlMs) })));
    const clients: RawClient[] = [];
    for (const [i, p] of procs.entries()) for (const k of [0, 1]) clients.push(await raw(p.url, `p${i}m${k}`));
    for (const c of clients) await c.join('rp');
    for (const x of clients) await waitFor(() => seenMembers(x, 'rp').length === clients.length - 1, 5000, `joins at ${x.address}`);
    const r = new Redis(redis.url);
    const ids = ((await r.keys('sig:node:*')) as string[]).map((k) => k.slice('sig:node:'.length));
    r.disconnect();
    expect(ids).toHaveLength(3);
    for (let round = 1; round <= 3; round++) {
      await (round % 2 ? redis.stop() : redis.kill());
      await sleep(round === 1 ? 100 : 700);
      await redis.start();
      await converged(clients.map((c) => c.address), 'rp', ids, ttlMs / 2 + 1000);
      expectStable(clients, 'rp', `after restart ${round}`);
    }
  }, 90_000);
});

describe('RedisBroker link: what a roster read answers while Redis is away or just back', () => {
  const quiet: BrokerHandlers = { message: () => {}, membersLost: () => {}, resync: () => {} };
  let links: BrokerLink[] = [];
  afterEach(async () => {
    await Promise.all(links.map((l) => l.close()));
    links = [];
  });

  it('members the link cannot tell about are `unsure`, never missing: during the outage and until their node is back', async () => {
    const ttlMs = 3000;
    const attach = async (id: string): Promise<BrokerLink> => {
      const l = await new RedisBroker({ url: redis.url, ttlMs, readyTimeoutMs: 2000 }).attach(id, quiet);
      links.push(l);
      return l;
    };
    const [a, b] = [await attach('outA'), await attach('outB')];
    for (const l of [a, b]) await l.subscribe(channelTopic('o'));
    await a.addMember('o', { address: 'x/d/a1', state: { v: 1 } });
    await b.addMember('o', { address: 'y/d/b1' });
    await sleep(100);
    expect((await a.members('o')).map((m) => m.address).sort()).toEqual(['x/d/a1', 'y/d/b1']);
    await redis.kill();
    await sleep(200);
    // Redis away: a's own member as it holds it, b's member unsure (not knowing is no proof that it left).
    expect(await a.members('o')).toEqual([{ address: 'x/d/a1', state: { v: 1 } }, { address: 'y/d/b1', unsure: true }]);
    await redis.start();
    // a is back (b may be too): b's member is either back, or unsure until b has rewritten it; never simply gone.
    const deadline = Date.now() + 15_000;
    let last: unknown[] = [];
    for (;;) {
      const got = await a.members('o');
      last = got;
      expect(got.find((m) => m.address === 'y/d/b1'), JSON.stringify(got)).toBeDefined();
      if (got.length === 2 && !got.some((m) => m.unsure)) break;
      if (Date.now() > deadline) throw new Error(`no convergence: ${JSON.stringify(last)}`);
      await sleep(20);
    }
  }, 30_000);
});
