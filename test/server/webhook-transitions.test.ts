/**
 * The transition stores against a plain model: random joins, leaves and replacements of endpoints (several nodes,
 * channels, identities) must report exactly the transitions the model computes, each once, in `seq` order. The memory
 * store, and the Redis store (its Lua scripts) on a real redis-server with one store per node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { nodeOfAddress, type Transition } from '../../src/server/webhooks/events.js';
import { MemoryCounts, MemoryTransitionStore, type Entry, type TransitionStore } from '../../src/server/webhooks/transitions.js';
import { RedisTransitionStore } from '../../src/server/webhooks/redis-transitions.js';
import { startRedisServer, type RedisServer } from '../redis/helpers.js';
import { waitFor } from '../helpers/wait.js';

type Op = { kind: 'join' | 'leave' | 'replace'; node: number; ch: number; id: number; dev: number };

const NODES = ['nodea1', 'nodeb2', 'nodec3'];
const opArb = fc.record({ kind: fc.constantFrom('join', 'join', 'leave', 'replace'), node: fc.nat(2), ch: fc.nat(1), id: fc.nat(2), dev: fc.nat(1) }) as fc.Arbitrary<Op>;

/** The model: which endpoints are in which channel; the transitions each op causes. */
function model(ops: Op[]): { steps: { op: Op; entry: Entry; replaced?: string; act: 'join' | 'leave' | 'none' }[]; expected: string[] } {
  const members = new Map<string, Set<string>>(); // channel -> endpoints
  const where = new Map<string, { node: number; route: number }>(); // identity/device -> its current endpoint
  let route = 0;
  const expected: string[] = [];
  const steps: { op: Op; entry: Entry; replaced?: string; act: 'join' | 'leave' | 'none' }[] = [];
  const ep = (node: number, id: number, dev: number, r: number): string => `u${id}/d${dev}/${NODES[node]}${r}`;
  const idIn = (ch: string, id: string): number => [...(members.get(ch) ?? [])].filter((e) => e.startsWith(`${id}/`)).length;
  for (const op of ops) {
    const ch = `c${op.ch}`;
    const identity = `u${op.id}`;
    const key = `${identity}/d${op.dev}`;
    let cur = where.get(key);
    if (op.kind === 'replace') {
      // the device reconnects on op.node naming its endpoint; the old one leaves (held), the new joins `ch`
      if (!cur) continue;
      const old = ep(cur.node, op.id, op.dev, cur.route);
      const next = { node: op.node, route: ++route };
      where.set(key, next);
      const fresh = ep(next.node, op.id, op.dev, next.route);
      const set = members.get(ch);
      const had = set?.has(old) ?? false;
      // the old endpoint is held in every channel (not counted as left); in `ch` the new one takes it over
      for (const [c, s] of members) if (s.has(old)) steps.push({ op, entry: { channel: c, identity, endpoint: old }, act: 'none' });
      if (had) {
        set!.delete(old);
        set!.add(fresh);
        steps.push({ op, entry: { channel: ch, identity, endpoint: fresh }, replaced: old, act: 'join' });
      }
      // other channels: the old endpoint stays counted until released (the test releases them at the end)
      continue;
    }
    if (!cur) where.set(key, (cur = { node: op.node, route: ++route }));
    const endpoint = ep(cur.node, op.id, op.dev, cur.route);
    const entry = { channel: ch, identity, endpoint };
    let set = members.get(ch);
    if (op.kind === 'join') {
      if (set?.has(endpoint)) continue;
      if (!set) members.set(ch, (set = new Set()));
      if (set.size === 0) expected.push(`channel.occupied ${ch}`);
      if (idIn(ch, identity) === 0) expected.push(`member.joined ${ch} ${identity}`);
      set.add(endpoint);
      steps.push({ op: { ...op, node: cur.node }, entry, act: 'join' });
    } else {
      if (!set?.has(endpoint)) continue;
      set.delete(endpoint);
      if (idIn(ch, identity) === 0) expected.push(`member.left ${ch} ${identity}`);
      if (set.size === 0) expected.push(`channel.vacated ${ch}`);
      steps.push({ op: { ...op, node: cur.node }, entry, act: 'leave' });
    }
  }
  return { steps, expected };
}

const show = (t: Transition): string => `${t.type} ${t.channel}${t.type.startsWith('member') ? ` ${t.identity}` : ''}`;

/** Run the model's steps on `stores` (one per node); `settle` waits for a store's operations. */
async function runOn(stores: TransitionStore[], steps: ReturnType<typeof model>['steps'], settle: () => Promise<void>): Promise<void> {
  for (const s of steps) {
    const store = stores[NODES.indexOf(nodeOfAddress(s.entry.endpoint)!)]!; // the node holding the endpoint
    if (s.act === 'join') store.join(s.entry, s.replaced);
    else if (s.act === 'leave') store.leave(s.entry, 'left');
    else store.hold(s.entry, 60_000);
    await settle();
  }
}

describe('transition stores against the model', () => {
  it('memory: exactly the model transitions, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), async (ops) => {
        const { steps, expected } = model(ops);
        const counts = new MemoryCounts();
        const got: Transition[] = [];
        const stores = NODES.map(() => new MemoryTransitionStore(counts));
        await Promise.all(stores.map((s, i) => s.start(NODES[i]!, (ts) => got.push(...ts))));
        await runOn(stores, steps, async () => {});
        expect(got.map(show)).toEqual(expected);
        expect(got.map((t) => t.seq)).toEqual(got.map((_, i) => i + 1));
      }),
      { numRuns: 200 },
    );
  });

  describe('redis (Lua scripts on a real redis-server)', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(async () => {
      await redis?.kill();
    });

    it('exactly the model transitions, in seq order, whichever node runs each operation', { timeout: 120_000 }, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 50, size: 'max' }), async (ops) => {
          const { steps, expected } = model(ops);
          const prefix = `t${run++}:`;
          const got: Transition[] = [];
          const stores = NODES.map(() => new RedisTransitionStore({ url: redis.url, prefix, ttlMs: 60_000 }));
          try {
            await Promise.all(stores.map((s, i) => s.start(NODES[i]!, (ts) => got.push(...ts))));
            const idle = (): boolean => stores.every((s) => (s as unknown as { inflight: number }).inflight === 0);
            await runOn(stores, steps, () => waitFor(idle, 5000, 'store idle').then(() => undefined));
            expect([...got].sort((a, b) => a.seq - b.seq).map(show)).toEqual(expected);
            expect(new Set(got.map((t) => t.seq)).size).toBe(got.length);
          } finally {
            await Promise.all(stores.map((s) => s.close()));
          }
        }),
        { numRuns: 25 },
      );
      const r = new Redis(redis.url);
      await r.flushall().finally(() => r.disconnect());
    });

    it('a node whose heartbeat lapsed is reaped once by another (reason lost), then puts its members back itself', { timeout: 30_000 }, async () => {
      const prefix = 'lapse:';
      const got: Transition[] = [];
      // a beats every 3 s (its key lives 3.1 s): the key deleted below stays gone until b or c has swept.
      const a = new RedisTransitionStore({ url: redis.url, prefix, ttlMs: 900, heartbeatMs: 3000 });
      const b = new RedisTransitionStore({ url: redis.url, prefix, ttlMs: 900 });
      const c = new RedisTransitionStore({ url: redis.url, prefix, ttlMs: 900 });
      const r = new Redis(redis.url);
      try {
        await a.start('nodea1', (ts) => got.push(...ts));
        await b.start('nodeb2', (ts) => got.push(...ts));
        await c.start('nodec3', (ts) => got.push(...ts));
        a.join({ channel: 'room', identity: 'alice', endpoint: 'alice/p/nodea10' });
        b.join({ channel: 'room', identity: 'bob', endpoint: 'bob/p/nodeb20' });
        await waitFor(() => got.length === 3, 5000, 'occupied + 2 joined');
        // Node a stalls past its heartbeat (simulated: its key goes); b and c sweep, one of them reaps it.
        await r.del('lapse:wh:b:nodea1');
        await waitFor(() => got.some((t) => t.type === 'member.left'), 5000, 'alice reaped');
        // a's next heartbeat finds its own key gone and its entry reaped: alice joins again.
        await waitFor(() => got.filter((t) => t.type === 'member.joined' && t.identity === 'alice').length === 2, 8000, 'alice back');
        await new Promise((res) => setTimeout(res, 1000));
        expect(got.sort((x, y) => x.seq - y.seq).map(show)).toEqual(['channel.occupied room', 'member.joined room alice', 'member.joined room bob', 'member.left room alice', 'member.joined room alice']);
        expect(got.find((t) => t.type === 'member.left')!.reason).toBe('lost');
        expect(await r.hget('lapse:wh:c:room', 'alice')).toBe('1');
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
        r.disconnect();
      }
    });
  });
});
