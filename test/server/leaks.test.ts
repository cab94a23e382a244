/**
 * Nothing a client does leaves state behind on the server: after random sessions of joins (with and without
 * presence), state updates, publishes, direct messages, leaves, orderly closes and abrupt terminations, and every
 * client gone, the server holds no connection, channel, identity or broker topic or roster.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool, type RawClient } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';

/** The broker's private maps, read only to check that they are empty. */
interface BrokerMaps {
  subscribers: Map<string, unknown>;
  rosters: Map<string, Map<string, unknown>>;
}

let srv: TestServer;
let broker: MemoryBroker;
const pool = new RawPool();
beforeAll(async () => {
  broker = new MemoryBroker();
  srv = await startTestServer({ broker, limits: { framesPerSecond: 1e6, frameBurst: 1e6 } });
});
afterEach(() => pool.closeAll());
afterAll(async () => {
  pool.closeAll();
  await srv.close();
});

const USERS = ['ann', 'ben', 'cat'];
const CHANNELS = ['a', 'b', 'c'];
const op = fc.oneof(
  fc.record({ k: fc.constant('join' as const), ch: fc.constantFrom(...CHANNELS), presence: fc.boolean() }),
  fc.record({ k: fc.constant('leave' as const), ch: fc.constantFrom(...CHANNELS) }),
  fc.record({ k: fc.constant('state' as const), ch: fc.constantFrom(...CHANNELS), v: fc.integer() }),
  fc.record({ k: fc.constant('publish' as const), ch: fc.constantFrom(...CHANNELS) }),
  fc.record({ k: fc.constant('dm' as const), to: fc.constantFrom(...USERS, 'ann/d0', 'nobody') }),
  fc.record({ k: fc.constant('close' as const) }),
  fc.record({ k: fc.constant('terminate' as const) }),
  fc.record({ k: fc.constant('open' as const) }),
);
const step = fc.record({ who: fc.nat({ max: 5 }), op });

function empty(): { connections: number; channels: number; sockets: number; topics: number; rosters: number } {
  const maps = broker as unknown as BrokerMaps;
  const { connections, channels, sockets } = srv.server.stats();
  return { connections, channels, sockets, topics: maps.subscribers.size, rosters: maps.rosters.size };
}

describe('no leaks', () => {
  it('random sessions, then everyone gone: no connection, channel, identity topic or roster is left', { timeout: 90_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 60 }), async (steps) => {
        const slots: (RawClient | null)[] = Array.from({ length: 6 }, () => null);
        const open = async (i: number): Promise<RawClient> => {
          const c = await pool.connect(srv.url, await srv.token(USERS[i % USERS.length]!, `d${i}`));
          slots[i] = c;
          return c;
        };
        for (let i = 0; i < slots.length; i++) await open(i);
        for (const { who, op: o } of steps) {
          const c = slots[who];
          if (o.k === 'open') {
            if (!c) await open(who);
            continue;
          }
          if (!c) continue;
          switch (o.k) {
            case 'join':
              c.notify('signal.join', { id: o.ch, presence: o.presence });
              break;
            case 'leave':
              c.notify('signal.leave', { id: o.ch });
              break;
            case 'state':
              c.notify('signal.publish', { id: o.ch, state: { v: o.v } });
              break;
            case 'publish':
              c.notify('signal.publish', { id: o.ch, text: 'hi' });
              break;
            case 'dm':
              c.notify('signal.send', { to: o.to, text: 'psst' });
              break;
            case 'close':
              c.close();
              slots[who] = null;
              break;
            case 'terminate':
              c.terminate();
              slots[who] = null;
              break;
          }
        }
        // Everyone still connected says goodbye one way or the other.
        slots.forEach((c, i) => (i % 2 ? c?.terminate() : c?.close()));
        await waitFor(() => empty().sockets === 0 && empty().connections === 0, 5000, 'every socket gone');
        expect(empty()).toEqual({ connections: 0, channels: 0, sockets: 0, topics: 0, rosters: 0 });
      }),
      { numRuns: 12 },
    );
  });
});
