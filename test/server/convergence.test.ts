/**
 * Presence converges under faults: after random state updates, cut links (each client behind its own TCP proxy),
 * frozen links (silently dead; the server's heartbeat is slowed, so only `replaces` removes them in time),
 * close() + connect(), leaves and rejoins, once the network is quiet every client's roster holds exactly the others that are in the
 * room, each with its last state: no ghost member, no lost member, no stale state. On one server, on two servers
 * sharing a MemoryBroker, and on two servers over a real Redis (clients spread across them).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken, Signal, type Channel } from '../../src/client/index.js';
import { RedisBroker } from '../../src/server/redis-broker.js';
import { MemoryBroker, NodeWebSocket, startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServer } from '../redis/helpers.js';
import { TcpProxy } from './tcp-proxy.js';

const N = 4;
const NAMES = ['ann', 'ben', 'cat', 'dan'];
const SECRET = 'convergence-secret';
type State = { v: number };

const step = fc.record({
  who: fc.nat({ max: N - 1 }),
  op: fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant('state' as const), v: fc.nat({ max: 99 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('cut' as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('freeze' as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('leave' as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('rejoin' as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('bounce' as const) }) },
  ),
  pauseMs: fc.constantFrom(0, 0, 5, 20, 60),
});

/** What a client's roster should show of the others, and what it shows. */
const rosterOf = (ch: Channel<object, State>): string[] =>
  [...ch.participants.values()].map((p) => `${p.identity}:${p.state === undefined ? '-' : p.state.v}`).sort();

const TOPOLOGIES = [
  { name: 'one server', servers: 1, broker: (): 'memory' | 'redis' => 'memory' },
  { name: 'two servers sharing a MemoryBroker', servers: 2, broker: (): 'memory' | 'redis' => 'memory' },
  { name: 'two servers over a real Redis', servers: 2, broker: (): 'memory' | 'redis' => 'redis' },
] as const;

describe.each(TOPOLOGIES)('presence convergence under faults: $name', (topology) => {
  let redis: RedisServer | null = null;
  const servers: TestServer[] = [];
  const proxies: TcpProxy[] = [];
  beforeAll(async () => {
    const shared = new MemoryBroker();
    if (topology.broker() === 'redis') redis = await startRedisServer();
    for (let k = 0; k < topology.servers; k++) {
      const broker = redis ? new RedisBroker({ url: redis.url }) : shared;
      // The server's heartbeat is slowed far past the convergence bound: a frozen link's endpoint must go because
      // the client's reconnect names it (`replaces`), not because the server noticed the silence.
      servers.push(await startTestServer({ secret: SECRET, broker, limits: { pingIntervalMs: 60_000, pongTimeoutMs: 60_000 } }));
    }
    // Client i talks to server i % servers, through its own proxy.
    for (let i = 0; i < N; i++) proxies.push(await new TcpProxy(servers[i % servers.length]!.port).start());
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    await Promise.all(servers.map((srv) => srv.close()));
    await redis?.kill();
  });

  it('random states, cut and frozen links, close/connect, leaves and rejoins: every roster ends exact, with the last states', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), async (steps) => {
        const sigs: Signal[] = [];
        const chans: (Channel<object, State> | null)[] = [];
        const model = NAMES.map(() => ({ inRoom: true, state: undefined as number | undefined }));
        try {
          for (let i = 0; i < N; i++) {
            const jwt = await servers[0]!.token(NAMES[i]!, 'web');
            const sig = new Signal(new AccessToken(jwt), {
              WebSocket: NodeWebSocket,
              url: `ws://127.0.0.1:${proxies[i]!.port}/signal/v1/pubsub`,
              reconnect: { initialDelay: 20, maxDelay: 100 },
              // A frozen link (nothing passes, nothing closes) is noticed by the keepalive within about a second.
              pingInterval: 300,
              pongTimeout: 1000,
            });
            sig.on('error', () => {}); // refusals while cut are expected; convergence is what is checked
            sigs.push(sig);
            chans.push(sig.join<object, State>('room', { presence: true }));
          }
          await Promise.all(chans.map((c) => c!.ready));
          for (const { who, op, pauseMs } of steps) {
            const ch = chans[who];
            if (op.k === 'state' && ch) {
              ch.me.updateState({ v: op.v });
              model[who]!.state = op.v;
            } else if (op.k === 'cut') {
              proxies[who]!.cut();
            } else if (op.k === 'freeze') {
              proxies[who]!.freeze(); // a network change: the old link is silently dead, the server still holds it
            } else if (op.k === 'bounce') {
              // close() and connect() again: channels and my state are kept and restored.
              sigs[who]!.close();
              sigs[who]!.connect();
            } else if (op.k === 'leave' && ch) {
              ch.leave();
              chans[who] = null;
              model[who] = { inRoom: false, state: undefined };
            } else if (op.k === 'rejoin' && !ch) {
              chans[who] = sigs[who]!.join<object, State>('room', { presence: true });
              model[who] = { inRoom: true, state: undefined };
            }
            if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
          }
          const expected = (i: number): string[] =>
            model
              .map((m, j) => (j !== i && m.inRoom ? `${NAMES[j]}:${m.state === undefined ? '-' : m.state}` : null))
              .filter((x): x is string => x !== null)
              .sort();
          const converged = (): boolean =>
            sigs.every((s) => s.state === 'open') &&
            chans.every((c, i) => c === null || (c.status === 'joined' && JSON.stringify(rosterOf(c)) === JSON.stringify(expected(i))));
          await waitFor(converged, 8000, 'rosters to converge').catch(() => undefined);
          for (let i = 0; i < N; i++) {
            const c = chans[i];
            if (c) expect({ who: NAMES[i], roster: rosterOf(c) }).toEqual({ who: NAMES[i], roster: expected(i) });
          }
        } finally {
          for (const s of sigs) s.dispose();
          // Frozen links are still open at the TCP level (the server replaced their sessions, or will when it closes).
          for (const p of proxies) p.cut();
        }
        // Everyone gone: the server holds nobody.
        await waitFor(() => servers.every((srv) => srv.server.stats().connections === 0), 5000, 'all disconnected');
      }),
      { numRuns: Number(process.env.CONVERGENCE_RUNS ?? 15), endOnFailure: true }, // no shrinking: each failing try waits out the convergence bound
    );
  });
});
