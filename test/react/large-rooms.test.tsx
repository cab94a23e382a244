// @vitest-environment jsdom
/**
 * Large rooms in React (issue 16): a batch of roster changes is one store update (one render of a participants
 * consumer), a 5,000-member roster renders a bounded PresenceList, and one member's state update re-renders one row.
 * Counts renders; no timing. The 5,000-member room is fed to the real client through a fake socket (5,000 real
 * connections in a jsdom test would measure the machine, not the React layer); the batch burst uses a real server.
 */
import { act, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { fakeWebSocket } from '../../src/testing/index.js';
import { signAccessToken } from '../../src/server/auth.js';
import { PresenceList, SignalProvider, useParticipants, type PresenceItem } from '../../src/index.js';
import type { WebSocketConstructor } from '../../src/client/index.js';
import { RawPool } from '../compat/raw-client.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { reactServers } from './fixture.js';

const startServer = reactServers();
const pool = new RawPool();

/** Renders the participant count on each render; records every count it rendered. */
function Counter({ seen }: { seen: number[] }): ReactNode {
  const n = useParticipants('big', (ps) => ps.length);
  seen.push(n);
  return <span data-testid="count">{n}</span>;
}

describe('large rooms', () => {
  it('a burst of joins arrives as few batches, each applied as one store update: renders <= batches, never per member', { timeout: 60_000 }, async () => {
    const srv = await startServer();
    let batches = 0;
    class Counting extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on('message', (d) => {
          if (String(d).includes('"signal.presence"') && !String(d).includes('"self"')) batches++;
        });
      }
    }
    const seen: number[] = [];
    const token = await srv.token('observer', 'web');
    const view = render(
      <SignalProvider token={token} options={{ WebSocket: Counting as unknown as WebSocketConstructor }}>
        <Counter seen={seen} />
      </SignalProvider>,
    );
    try {
      await waitFor(() => batches >= 1, 10_000, 'the join snapshot'); // the (empty) snapshot of our own join
      const M = 150;
      const raws = await Promise.all(Array.from({ length: M }, async (_, i) => pool.connect(srv.url, await srv.token(`m${i}`, 'd'))));
      const before = { batches, renders: seen.length };
      for (const r of raws) r.notify('signal.join', { id: 'big', presence: true }); // all at once
      await waitFor(() => screen.getByTestId('count').textContent === String(M), 20_000, `${M} participants`);
      await act(async () => sleep(100));
      const renders = seen.length - before.renders;
      const got = batches - before.batches;
      expect(got).toBeGreaterThanOrEqual(1);
      expect(got).toBeLessThan(M); // coalesced: not one frame per member
      expect(renders).toBeGreaterThanOrEqual(1);
      expect(renders).toBeLessThanOrEqual(got); // one store update per batch (React may fold several into one render)
      expect(seen.at(-1)).toBe(M);
    } finally {
      view.unmount();
      pool.closeAll();
    }
  });

  it('a 5,000-member roster: one render for the whole snapshot, a bounded PresenceList, one row per state update', async () => {
    const fake = fakeWebSocket();
    const token = await signAccessToken({ secret: 'x', identity: 'me', device: 'web', audience: 'http://signal.test' });
    const seen: number[] = [];
    const rowRenders = new Map<string, number>();
    const renderItem = (it: PresenceItem<{ name?: string }>): ReactNode => {
      rowRenders.set(it.id, (rowRenders.get(it.id) ?? 0) + 1);
      return it.name;
    };
    const view = render(
      <SignalProvider token={token} options={{ WebSocket: fake.WebSocket, reconnect: false }}>
        <Counter seen={seen} />
        <PresenceList channel="big" groupBy="endpoint" renderItem={renderItem} label="capped" max={50} />
        <PresenceList channel="big" groupBy="endpoint" label="default" />
      </SignalProvider>,
    );
    try {
      await waitFor(() => fake.sockets.length === 1, 5000, 'a socket');
      act(() => fake.last().accept());
      const join = await waitFor(() => fake.last().sent.map((f) => (f.startsWith('{') ? JSON.parse(f) : null)).find((f) => f?.method === 'signal.join'), 5000, 'the join');
      expect(join.params).toEqual({ id: 'big', presence: true, batch: true });
      const N = 5000;
      const addr = (i: number): string => `u${i}/d/r${i}`;
      const note = (params: object): string => JSON.stringify({ jsonrpc: '2.0', method: 'signal.presence', params: { id: 'big', from: '', ...params } });
      const before = seen.length;
      act(() => {
        const ws = fake.last();
        ws.receive(note({ self: 'me/web/r0' }));
        // The server cuts a snapshot into frames of ~32 kB: here 5 frames of 1,000 members, each a batch.
        for (let f = 0; f < 5; f++) ws.receive(note({ members: Array.from({ length: 1000 }, (_, k) => [addr(f * 1000 + k), { name: `n${f * 1000 + k}` }]) }));
        ws.receive(JSON.stringify({ jsonrpc: '2.0', id: join.id, result: { id: 'big', presence: true, members: N + 1, address: 'me/web/r0', batch: true } }));
      });
      await waitFor(() => screen.getByTestId('count').textContent === String(N), 5000, `${N} participants`);
      await act(async () => sleep(50));
      // One store update per frame (5), never one per member; React folds them into even fewer renders.
      expect(seen.length - before).toBeGreaterThanOrEqual(1);
      expect(seen.length - before).toBeLessThanOrEqual(5);
      expect(seen.slice(before).every((n) => n % 1000 === 0)).toBe(true);
      // Bounded lists: `max` rows (me included) and a "+N" entry; without `max`, the default cap.
      const capped = screen.getByRole('list', { name: 'capped' });
      expect(capped.querySelectorAll('li.rss-presence__item')).toHaveLength(50);
      expect(capped.querySelector('li.rss-presence__more')!.textContent).toBe(`+${N + 1 - 50}`);
      const dflt = screen.getByRole('list', { name: 'default' });
      expect(dflt.querySelectorAll("li.rss-presence__item")).toHaveLength(200);
      expect(dflt.querySelector('li.rss-presence__more')).not.toBeNull();
      expect(rowRenders.size).toBeLessThanOrEqual(50); // rows never rendered for members out of view
      // One member's state update re-renders that one row, and no other.
      rowRenders.clear();
      const shown = addr(10);
      act(() => fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'big', from: shown, state: { name: 'Renamed' } } })));
      await waitFor(() => capped.textContent!.includes('Renamed'), 5000, 'the new name');
      await act(async () => sleep(50));
      expect([...rowRenders.entries()]).toEqual([[shown, 1]]);
      // A member out of view changes state: no row renders at all.
      rowRenders.clear();
      act(() => fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'big', from: addr(4000), state: { name: 'Hidden' } } })));
      await act(async () => sleep(50));
      expect(rowRenders.size).toBe(0);
    } finally {
      view.unmount();
    }
  });
});
