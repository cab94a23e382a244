/**
 * Direct-message routing as a property: random endpoints (users × devices × tabs) spread over two servers that
 * share a broker, random senders and every address form (`identity`, `identity/device`, `identity/device/route`),
 * plain or in a channel's context. Exactly the matching endpoints receive each message, once, never the sending
 * connection itself, and in a channel's context only those joined to that channel; `from` is the sender's address.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool, type RawClient } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'routing-secret';
const pool = new RawPool();
const servers: TestServer[] = [];
beforeAll(async () => {
  const broker = new MemoryBroker();
  for (let k = 0; k < 2; k++) servers.push(await startTestServer({ secret: SECRET, broker }));
});
afterAll(async () => {
  pool.closeAll();
  await Promise.all(servers.map((s) => s.close()));
});

interface Endpoint {
  identity: string;
  device: string;
  address: string;
  inRoom: boolean;
  raw: RawClient;
}

const endpointArb = fc.record({
  identity: fc.constantFrom('u1', 'u2', 'u3'),
  device: fc.constantFrom('d1', 'd2'),
  server: fc.nat({ max: 1 }),
  inRoom: fc.boolean(),
});
const sendArb: fc.Arbitrary<Send> = fc.record({
  from: fc.nat(),
  form: fc.constantFrom('identity' as const, 'device' as const, 'route' as const, 'nobody' as const),
  target: fc.nat(),
  inRoom: fc.boolean(),
});

let seq = 0;

type Send = { from: number; form: 'identity' | 'device' | 'route' | 'nobody'; target: number; inRoom: boolean };

/** Who should get send `s` (the model): the matching endpoints, never the sending connection, in a channel's
 * context only the ones joined to it. */
function plan(eps: Endpoint[], s: Send): { sender: Endpoint; to: string; ctx: boolean; receives: (e: Endpoint) => boolean } {
  const sender = eps[s.from % eps.length]!;
  const target = eps[s.target % eps.length]!;
  const to =
    s.form === 'identity' ? target.identity
    : s.form === 'device' ? `${target.identity}/${target.device}`
    : s.form === 'route' ? target.address
    : 'nobody';
  const ctx = s.inRoom && sender.inRoom;
  const receives = (e: Endpoint): boolean =>
    e !== sender &&
    (!ctx || e.inRoom) &&
    (s.form === 'identity' ? e.identity === target.identity
    : s.form === 'device' ? e.identity === target.identity && e.device === target.device
    : s.form === 'route' ? e.address === target.address
    : false);
  return { sender, to, ctx, receives };
}

describe('routing (property)', () => {
  it('every address form, plain or in a channel, across two servers: exactly the matching endpoints, once', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(endpointArb, { minLength: 2, maxLength: 7 }), fc.array(sendArb, { minLength: 1, maxLength: 6 }), async (specs, sends) => {
        const run = ++seq;
        const room = `room-${run}`;
        const eps: Endpoint[] = [];
        try {
          for (const [i, sp] of specs.entries()) {
            const srv = servers[sp.server]!;
            const raw = await pool.connect(srv.url, await srv.token(sp.identity, sp.device));
            // Learn this endpoint's address from a join reply (a channel without presence: nobody is told).
            raw.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: sp.inRoom ? room : `solo-${run}-${i}` }, id: 1 });
            const reply = (await raw.next()) as { result?: { address?: string } };
            eps.push({ identity: sp.identity, device: sp.device, address: reply.result!.address!, inRoom: sp.inRoom, raw });
          }
          const markedOf = (e: Endpoint, marker: string) =>
            e.raw.frames
              .map((f) => f.json as { method?: string; params?: Record<string, unknown> } | undefined)
              .filter((j) => j?.params?.['marker'] === marker);
          for (const [n, s] of sends.entries()) {
            const { sender, to, ctx, receives } = plan(eps, s);
            const marker = `m${run}-${n}`;
            sender.raw.notify('signal.send', ctx ? { to, id: room, marker } : { to, marker });
            await waitFor(() => eps.filter(receives).every((e) => markedOf(e, marker).length >= 1), 5000, `${marker} delivered`);
          }
          // Let anything misrouted arrive, then check every endpoint's inbox exactly.
          await new Promise((r) => setTimeout(r, 60));
          for (const [n, s] of sends.entries()) {
            const marker = `m${run}-${n}`;
            const { sender, ctx, receives } = plan(eps, s);
            for (const e of eps) {
              const frames = markedOf(e, marker);
              expect({ marker, at: e.address, count: frames.length }).toEqual({ marker, at: e.address, count: receives(e) ? 1 : 0 });
              for (const f of frames) {
                expect(f!.method).toBe('signal.send');
                expect(f!.params!['from']).toBe(sender.address);
                if (ctx) expect(f!.params!['id']).toBe(room);
                else expect(f!.params).not.toHaveProperty('id');
              }
            }
          }
        } finally {
          for (const e of eps) e.raw.close();
        }
      }),
      { numRuns: Number(process.env.ROUTING_RUNS ?? 20), endOnFailure: true },
    );
  });
});
