// @vitest-environment jsdom
/**
 * Channel reference counting under StrictMode, as a property: whatever sequence of components using channels
 * mounts and unmounts (several per channel, with and without presence, fast or slow), once it settles another
 * client sees the user in exactly the channels the model says, on one connection. The model: the first holder of a
 * channel joins it (with presence when it asks for it), a presence holder arriving later upgrades the join, and the
 * last holder leaving leaves it one tick later, so a holder that comes back within the same tick keeps the join.
 */
import fc from 'fast-check';
import { StrictMode, useState } from 'react';
import { act, cleanup, render } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { socketUpdatesOutsideAct } from './act-env.js';
import { recordingWebSocket } from './helpers.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { SignalProvider, useChannel, useParticipants } from '../../src/index.js';
import type { Channel, Signal } from '../../src/client/index.js';
import { sleep, waitFor } from '../helpers/wait.js';

socketUpdatesOutsideAct();

const CHANNELS = ['a', 'b', 'c'] as const;
type Holder = { key: number; channel: (typeof CHANNELS)[number]; kind: 'channel' | 'quiet' | 'participants' };

let srv: TestServer;
let watcher: Signal;
const seen = new Map<string, Channel>();
beforeAll(async () => {
  srv = await startTestServer();
  watcher = await srv.connect('watcher', 'w');
  for (const ch of CHANNELS) {
    const c = watcher.join(ch, { presence: true });
    await c.ready;
    seen.set(ch, c);
  }
});
afterEach(() => cleanup());
afterAll(async () => srv.close());

function Uses({ h }: { h: Holder }) {
  if (h.kind === 'channel') useChannel(h.channel);
  else if (h.kind === 'quiet') useChannel(h.channel, { presence: false });
  else useParticipants(h.channel);
  return null;
}

/** Channels where the watcher sees alice. */
const aliceIn = (): string[] =>
  CHANNELS.filter((ch) => [...seen.get(ch)!.participants.values()].some((p) => p.identity === 'alice'));

const holder = fc.record({
  key: fc.nat({ max: 7 }),
  channel: fc.constantFrom(...CHANNELS),
  kind: fc.constantFrom('channel' as const, 'quiet' as const, 'participants' as const),
});
// Each step is the whole set of mounted holders (unique keys), then a pause.
const stepArb = fc.record({
  holders: fc.uniqueArray(holder, { selector: (h) => h.key, maxLength: 6 }),
  pauseMs: fc.constantFrom(0, 0, 10, 80),
});

describe('reference counting (property)', () => {
  it('after any mount/unmount sequence, presence matches the model: first holder joins, presence upgrades, last one leaves a tick later', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 10 }), async (steps) => {
        const rec = recordingWebSocket();
        let setHolders!: (h: Holder[]) => void;
        function App() {
          const [holders, set] = useState<Holder[]>([]);
          setHolders = set;
          return (
            <>
              {holders.map((h) => (
                <Uses key={`${h.key}-${h.channel}-${h.kind}`} h={h} />
              ))}
            </>
          );
        }
        const token = await srv.token('alice', 'web');
        const view = render(
          <StrictMode>
            <SignalProvider token={token} options={{ WebSocket: rec.WS }}>
              <App />
            </SignalProvider>
          </StrictMode>,
        );
        const model = new Map(CHANNELS.map((ch) => [ch, { held: false, presence: false, leaving: false }]));
        try {
          for (const { holders, pauseMs } of steps) {
            act(() => setHolders(holders));
            for (const [ch, m] of model) {
              const hs = holders.filter((h) => h.channel === ch);
              const wants = hs.some((h) => h.kind !== 'quiet');
              if (hs.length === 0) m.leaving = m.held;
              else if (m.held) Object.assign(m, { presence: m.presence || wants, leaving: false });
              else Object.assign(m, { held: true, presence: wants, leaving: false });
            }
            if (pauseMs) {
              await sleep(pauseMs);
              for (const m of model.values()) if (m.leaving) Object.assign(m, { held: false, presence: false, leaving: false });
            }
          }
          const expected = CHANNELS.filter((ch) => {
            const m = model.get(ch)!;
            return m.held && !m.leaving && m.presence;
          });
          await waitFor(() => JSON.stringify(aliceIn()) === JSON.stringify(expected), 5000, 'presence to settle').catch(() => undefined);
          await sleep(100); // a late leave or join would show here
          expect(aliceIn()).toEqual(expected);
          expect(rec.sockets()).toBe(1); // StrictMode never opens a second connection
        } finally {
          view.unmount();
        }
        await waitFor(() => aliceIn().length === 0, 5000, 'alice gone after unmount');
      }),
      { numRuns: Number(process.env.REFCOUNT_RUNS ?? 12), endOnFailure: true },
    );
  });
});
