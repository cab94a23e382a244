// @vitest-environment jsdom
/** createPeerLink and usePeerConnection over a real server; a fake RTCPeerConnection (jsdom has none). */
import { StrictMode } from 'react';
import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { reactServers } from '../react/fixture.js';
import { createPeerLink, usePeerConnection, type UsePeerConnection } from '../../src/calls/index.js';
import type { Payload, Signal, WebSocketConstructor } from '../../src/client/index.js';
import { sleep, waitFor, stateTrail } from '../helpers/wait.js';
import { asPC, FakePC } from './fake-pc.js';

const startServer = reactServers();
const RTC = FakePC as unknown as typeof RTCPeerConnection;
const settled = (...pcs: FakePC[]) => pcs.every((p) => p.signalingState === 'stable' && p.connectionState === 'connected');

describe('createPeerLink (direct messages between two endpoints)', () => {
  it('glare between the two ends resolves; a reconnect of one end is followed by the other', async () => {
    const srv = await startServer();
    const live = new Set<WebSocket>();
    class Cuttable extends WebSocket {
      constructor(url: string) {
        super(url);
        live.add(this);
        this.on('close', () => live.delete(this));
      }
    }
    const alice = (await srv.connect('alice', 'web')) as Signal<Payload>;
    const bob = (await srv.connect('bob', 'web', { WebSocket: Cuttable as unknown as WebSocketConstructor })) as Signal<Payload>;
    const a = createPeerLink(alice, 'bob/web', { RTCPeerConnection: RTC });
    const b = createPeerLink(bob, 'alice/web', { RTCPeerConnection: RTC });
    const [pa, pb] = [a.pc as unknown as FakePC, b.pc as unknown as FakePC];
    pa.addTrack();
    pb.addTrack();
    await waitFor(() => settled(pa, pb), 5000, 'connected');
    await sleep(100);
    expect(settled(pa, pb)).toBe(true);
    expect([pa.log.includes('rollback'), pb.log.includes('rollback')].filter(Boolean)).toHaveLength(1); // one end gave way
    expect(a.peer).toMatch(/^bob\/web\//);
    const before = a.peer;
    // Bob's socket is cut; he reconnects with a new route. His next signal tells Alice where he is now.
    const trail = stateTrail(bob);
    for (const w of live) w.terminate();
    await waitFor(() => trail.includes('reconnecting'), 5000, 'bob reconnecting');
    await waitFor(() => bob.state === 'open', 10_000, 'bob open again');
    const answers = pa.answers + pa.offers;
    pb.restartIce();
    await waitFor(() => a.peer !== before && pa.answers + pa.offers > answers && settled(pa, pb), 5000, 'renegotiated with bob’s new endpoint');
    // Alice's own renegotiation now reaches Bob at the new endpoint.
    const bobAnswers = pb.answers;
    pa.addTrack();
    await waitFor(() => pb.answers === bobAnswers + 1 && settled(pa, pb), 5000, 'alice renegotiates to the new endpoint');
    a.close();
    b.close();
    expect(pa.closed && pb.closed).toBe(true);
  });
});

describe('usePeerConnection in StrictMode', () => {
  it('connects two providers, re-renders with the connection state, and closes its connection on unmount', async () => {
    const srv = await startServer();
    const [AsAlice, AsBob] = await Promise.all([srv.provider('alice'), srv.provider('bob')]);
    const seen: Record<string, UsePeerConnection> = {};
    function Link({ me, peer }: { me: string; peer: string }) {
      const link = usePeerConnection(peer, { RTCPeerConnection: RTC, id: 'screen' });
      seen[me] = link;
      return <p data-testid={me}>{link.connectionState}</p>;
    }
    const view = render(
      <StrictMode>
        <AsAlice>
          <Link me="alice" peer="bob/web" />
        </AsAlice>
        <AsBob>
          <Link me="bob" peer="alice/web" />
        </AsBob>
      </StrictMode>,
    );
    await waitFor(() => seen.alice?.pc && seen.bob?.pc, 5000, 'both created');
    await sleep(200); // both providers open
    (seen.alice!.pc as unknown as FakePC).createDataChannel('x');
    await waitFor(() => view.getByTestId('alice').textContent === 'connected' && view.getByTestId('bob').textContent === 'connected', 5000, 'connected');
    // StrictMode's double mount: the first connection of each side was closed, one is live.
    const pcs = FakePC.all.filter((p) => asPC(p) === seen.alice!.pc || asPC(p) === seen.bob!.pc);
    expect(pcs.every((p) => !p.closed)).toBe(true);
    const open = () => FakePC.all.filter((p) => !p.closed).length;
    expect(open()).toBe(2);
    view.unmount();
    expect(open()).toBe(0);
  });
});
