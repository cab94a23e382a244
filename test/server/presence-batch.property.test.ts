/**
 * Batched presence (extension) converges to the same rosters as the Bit6 per-member form: random joins, leaves,
 * state updates, abrupt drops and observers coming anew, on two real servers sharing a broker. Two observers per
 * server watch the same channel, one in each form; once quiet, each one's roster (address -> last state), folded
 * from the frames it received, equals the model, so both forms agree.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool, type RawClient } from '../compat/raw-client.js';
import { sleep, waitFor } from '../helpers/wait.js';

const ACTORS = 5;
const pool = new RawPool();
let servers: TestServer[] = [];

beforeAll(async () => {
  const broker = new MemoryBroker();
  servers = [await startTestServer({ broker }), await startTestServer({ broker })];
});
afterAll(async () => {
  pool.closeAll();
  for (const s of servers) await s.close();
});

type Roster = Map<string, string>; // address -> JSON of its state ('-' for none)

/** An observer's roster, folded from every frame it received in order, in the form it asked for. */
function fold(c: RawClient, batch: boolean): { roster: Roster; me: string } {
  const roster: Roster = new Map();
  let me = '';
  for (const f of c.frames) {
    const j = f.json as { method?: string; id?: number; result?: { address?: string }; params?: Record<string, unknown> } | undefined;
    if (!j) continue;
    if (j.id !== undefined && j.result?.address) me = j.result.address;
    const p = j.params;
    if (!p) continue;
    const from = p.from as string;
    if (batch) {
      expect(['signal.join', 'signal.join_back', 'signal.leave']).not.toContain(j.method); // never the per-member form
      if (j.method === 'signal.presence') {
        if (typeof p.self === 'string') me = p.self;
        for (const [a, s] of (p.members as [string, unknown?][] | undefined) ?? []) roster.set(a, s === undefined ? '-' : JSON.stringify(s));
        for (const a of (p.left as string[] | undefined) ?? []) roster.delete(a);
      } else if ((j.method === 'signal.publish' || j.method === 'signal.send') && 'state' in p && roster.has(from)) {
        roster.set(from, JSON.stringify(p.state));
      }
    } else {
      expect(j.method).not.toBe('signal.presence'); // never the extension
      if (j.method === 'signal.join' || j.method === 'signal.join_back') {
        if (!roster.has(from)) roster.set(from, '-');
      } else if (j.method === 'signal.leave') roster.delete(from);
      else if ((j.method === 'signal.publish' || j.method === 'signal.send') && 'state' in p && roster.has(from)) {
        roster.set(from, JSON.stringify(p.state));
      }
    }
  }
  roster.delete(me);
  return { roster, me };
}

/** The actors' entries (observers, also presence members, see each other but never themselves: left out). */
const sorted = (r: Roster): string[] => [...r].filter(([a]) => !a.startsWith('obs')).map(([a, s]) => `${a}=${s}`).sort();

const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('join' as const), who: fc.nat({ max: ACTORS - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('leave' as const), who: fc.nat({ max: ACTORS - 1 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('state' as const), who: fc.nat({ max: ACTORS - 1 }), v: fc.nat({ max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('drop' as const), who: fc.nat({ max: ACTORS - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('observers' as const) }) },
);
const step = fc.record({ op, pauseMs: fc.constantFrom(0, 0, 0, 2, 10) });

describe('batched presence vs the per-member form', () => {
  it('random joins, leaves, states, drops and new observers: both forms end with the same rosters and states', { timeout: 180_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        const ch = `room${run++}`;
        const open = async (who: string, i: number): Promise<RawClient> => {
          const s = servers[i % 2]!;
          return pool.connect(s.url, await s.token(who, `d${i}`));
        };
        const actors = await Promise.all(Array.from({ length: ACTORS }, (_, i) => open(`a${i}`, i)));
        const model = actors.map(() => ({ inRoom: false, state: '-' }));
        const observe = async (): Promise<{ c: RawClient; batch: boolean }[]> => {
          const out = [];
          for (let k = 0; k < 4; k++) {
            const c = await open(`obs${k}`, k);
            const batch = k < 2;
            c.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: ch, presence: true, ...(batch ? { batch: true } : {}) }, id: 1 });
            out.push({ c, batch });
          }
          return out;
        };
        let observers = await observe();
        try {
          for (const { op: o, pauseMs } of steps) {
            if (o.k === 'observers') {
              for (const x of observers) x.c.close();
              observers = await observe();
            } else {
              const a = actors[o.who]!;
              const m = model[o.who]!;
              if (o.k === 'join' && !m.inRoom) {
                a.notify('signal.join', { id: ch, presence: true });
                model[o.who] = { inRoom: true, state: '-' };
              } else if (o.k === 'leave' && m.inRoom) {
                a.notify('signal.leave', { id: ch });
                model[o.who] = { inRoom: false, state: '-' };
              } else if (o.k === 'state' && m.inRoom) {
                a.notify('signal.publish', { id: ch, state: { v: o.v } });
                m.state = JSON.stringify({ v: o.v });
              } else if (o.k === 'drop') {
                a.terminate(); // abrupt: no close frame; its presence leaves at once (TCP close)
                actors[o.who] = await open(`a${o.who}`, o.who);
                model[o.who] = { inRoom: false, state: '-' };
              }
            }
            if (pauseMs) await sleep(pauseMs);
          }
          // The model, by identity (each actor holds one live address at a time): who is in, with which state.
          const expected = model.flatMap((m, i) => (m.inRoom ? [`a${i}=${m.state}`] : [])).sort();
          const byIdentity = (r: Roster): string[] => sorted(r).map((e) => e.replace(/\/[^=]*/, ''));
          const views = (): { batch: boolean; roster: Roster }[] => observers.map((x) => ({ batch: x.batch, roster: fold(x.c, x.batch).roster }));
          const agree = (): boolean => {
            const v = views();
            const first = JSON.stringify(sorted(v[0]!.roster));
            return v.every((x) => JSON.stringify(sorted(x.roster)) === first && JSON.stringify(byIdentity(x.roster)) === JSON.stringify(expected));
          };
          await waitFor(agree, 5000, 'rosters to agree').catch(() => undefined);
          const v = views();
          for (const x of v) expect(byIdentity(x.roster)).toEqual(expected);
          for (const x of v.slice(1)) expect(sorted(x.roster)).toEqual(sorted(v[0]!.roster));
        } finally {
          for (const a of actors) a.close();
          for (const x of observers) x.c.close();
        }
      }),
      { numRuns: Number(process.env.BATCH_RUNS ?? 25), endOnFailure: true },
    );
  });
});
