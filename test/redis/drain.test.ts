/**
 * A SIGTERM drain of one of two real server processes (the CLI, `--redis`) over a real `redis-server`, behind a
 * health-checking load balancer (issue 13). Clients (our `Signal`, presence and a state each) are spread over both.
 * Draining process A: its /readyz turns 503 (the balancer stops sending it connections), its clients are closed with
 * 1012 spread over the drain window, they reconnect (soon, with jitter, with `replaces`) to B, rejoin with their
 * state; A exits 0. Every peer saw each leave followed by a join of the same identity well within the drain window,
 * and in the end every client sees every other one with its state. The figures are printed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken } from '../../src/client/access-token.js';
import { Signal } from '../../src/client/signal.js';
import type { Channel } from '../../src/client/channel.js';
import { signAccessToken } from '../../src/server/auth.js';
import { NodeWebSocket, waitUntilOpen } from '../../src/testing/index.js';
import { exitOf, killAll, serve } from '../cli/run.js';
import { Balancer } from '../helpers/balancer.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServer } from './helpers.js';

const SECRET = 'drain-test-secret-0123456789abcdefghijkl';
const N = 12;
const DRAIN_MS = 3000;

let redis: RedisServer;
const clients: Signal[] = [];
let lb: Balancer | null = null;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  await lb?.close();
  killAll();
});
afterAll(async () => {
  killAll();
  await redis?.kill();
});

interface Seen {
  t: number;
  identity: string;
  id: string;
  op: number;
}

const jsonLines = (out: string): Record<string, unknown>[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('drain (SIGTERM) of one of two processes', () => {
  it('every client of the drained process ends up on the other, rejoined with its state; peers see no leave without a join', { timeout: 120_000 }, async () => {
    const args = ['serve', '--port', '0', '--redis', redis.url, '--secret', SECRET, '--drain-ms', String(DRAIN_MS), '--log-format', 'json'];
    const [a, b] = await Promise.all([serve(args), serve(args)]);
    const portOf = (url: string): number => Number(new URL(url).port);
    lb = await new Balancer([portOf(a.url), portOf(b.url)]).start();

    const seen: Seen[][] = [];
    const chans: Channel<{ n: number }>[] = [];
    for (let i = 0; i < N; i++) {
      const jwt = await signAccessToken({ secret: SECRET, identity: `u${i}`, device: 'd', audience: lb.url });
      const sig = new Signal(new AccessToken(jwt), { WebSocket: NodeWebSocket });
      clients.push(sig);
      await waitUntilOpen(sig, 10_000);
      const ch = sig.join<{ n: number }>('room', { presence: true });
      await ch.ready;
      ch.me.updateState({ n: i });
      const mine: Seen[] = [];
      ch.on('participant', (p, op) => mine.push({ t: Date.now(), identity: p.identity, id: p.id, op }));
      seen.push(mine);
      chans.push(ch);
    }
    /** Every client sees every other one, with its state. */
    const settled = (): boolean =>
      clients.every((c) => c.state === 'open') &&
      chans.every((ch, i) => {
        const others = [...ch.participants.values()];
        return others.length === N - 1 && others.every((p) => p.state?.n === Number(p.identity.slice(1)) && p.identity !== `u${i}`);
      });
    await waitFor(settled, 20_000, 'every client to see the others with their states');

    const routesOf = (out: string): Set<string> =>
      new Set(jsonLines(out).filter((l) => l.event === 'connection.accepted').map((l) => String(l.route)));
    const routeOf = (ch: Channel): string => ch.me.id!.split('/')[2]!;
    const onA = chans.filter((ch) => routesOf(a.out()).has(routeOf(ch)));
    const onB = chans.filter((ch) => routesOf(b.out()).has(routeOf(ch)));
    expect(onA.length + onB.length).toBe(N);
    expect(onA.length).toBeGreaterThanOrEqual(N / 2 - 1);
    const movers = new Set(onA.map((ch) => ch.me.identity));

    const t0 = Date.now();
    a.child.kill('SIGTERM');
    const exit = await exitOf(a, DRAIN_MS + 20_000);
    const exitedAfter = Date.now() - t0;
    expect(exit).toEqual({ code: 0, signal: null });
    // Every client of A now on B, rejoined, with every state.
    await waitFor(() => settled() && chans.every((ch) => routesOf(b.out()).has(routeOf(ch))), DRAIN_MS + 20_000, 'every client on B, rejoined');
    const settledAfter = Date.now() - t0;
    await sleep(300); // late frames, if any

    // A's log: drain start and end, each of its connections closed with 1012.
    const aLog = jsonLines(a.out());
    expect(aLog.filter((l) => l.event === 'drain.start')).toEqual([expect.objectContaining({ connections: onA.length, drainMs: DRAIN_MS })]);
    expect(aLog.filter((l) => l.event === 'drain.end')).toEqual([expect.objectContaining({ closed: onA.length })]);
    const closes = aLog.filter((l) => l.event === 'connection.closed');
    expect(closes.map((l) => l.code)).toEqual(onA.map(() => 1012));

    // Peers: every leave after the SIGTERM is of a mover, whose new endpoint joined too (a peer that moved itself may
    // learn the new endpoint from its rejoin's roster before it drops the old one: then the gap is 0).
    let maxGap = 0;
    let leaves = 0;
    for (const [i, events] of seen.entries()) {
      const after = events.filter((e) => e.t >= t0);
      for (const e of after) {
        if (e.op !== -1) continue;
        leaves++;
        expect(movers.has(e.identity), `u${i} saw ${e.identity} leave, which was not on A`).toBe(true);
        const rejoin = after.find((j) => j.op === 1 && j.identity === e.identity && j.id !== e.id);
        expect(rejoin, `u${i} saw ${e.identity} leave and never join again: ${JSON.stringify(after.filter((x) => x.identity === e.identity))}`).toBeDefined();
        const gap = Math.max(0, rejoin!.t - e.t);
        expect(gap, `u${i}: ${e.identity} away ${gap} ms`).toBeLessThanOrEqual(DRAIN_MS);
        maxGap = Math.max(maxGap, gap);
      }
    }
    // The figures, for the report.
    console.log(
      `drain figures: ${N} clients (${onA.length} on the drained process, ${onB.length} on the other); moved ${onA.length}; ` +
        `leaves seen by peers ${leaves}; longest gap (leave to join again) seen by a peer ${maxGap} ms; drain window ${DRAIN_MS} ms; ` +
        `process exited after ${exitedAfter} ms; every client settled on B after ${settledAfter} ms`,
    );
    expect(leaves).toBeGreaterThan(0);
  });
});
