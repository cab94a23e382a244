import { describe, expect, it } from 'vitest';
import { createNegotiator, type Negotiator } from '../../src/calls/negotiation.js';
import type { NegotiationSignal } from '../../src/calls/signals.js';
import { asPC, FakePC } from './fake-pc.js';
import { sleep, waitFor } from '../helpers/wait.js';

type Sig = Omit<NegotiationSignal, 'call'> extends infer T ? T : never;

/** Two negotiators on two fakes; each one's signals reach the other after `delay` ms (in order). */
function pair(delay = 3) {
  const a = new FakePC();
  const b = new FakePC();
  const sent = { a: [] as Sig[], b: [] as Sig[] };
  const errors: unknown[] = [];
  let na!: Negotiator;
  let nb!: Negotiator;
  const link = (to: () => Negotiator, list: Sig[]) => (s: Sig) => {
    list.push(s);
    setTimeout(() => void to().receive({ ...s, call: 'c' } as NegotiationSignal), delay);
  };
  na = createNegotiator(asPC(a), { polite: false, send: link(() => nb, sent.a), onError: (e) => errors.push(e) });
  nb = createNegotiator(asPC(b), { polite: true, send: link(() => na, sent.b), onError: (e) => errors.push(e) });
  return { a, b, na, nb, sent, errors };
}

const stable = (...pcs: FakePC[]) => pcs.every((p) => p.signalingState === 'stable' && p.connectionState === 'connected');

describe('Negotiator (perfect negotiation over a fake RTCPeerConnection)', () => {
  it('one side adds a track: one offer, one answer, connected; candidates go out in batches', async () => {
    const { a, b, sent, errors } = pair();
    a.addTrack();
    await waitFor(() => stable(a, b), 3000, 'connected');
    expect(a.offers).toBe(1);
    expect(b.answers).toBe(1);
    expect(b.offers).toBe(0);
    // 4 candidates each, gathered within ~12 ms: one batch per side instead of 4 messages.
    const ice = (l: Sig[]) => l.filter((s) => s.type === 'call-ice');
    expect(ice(sent.a)).toHaveLength(1);
    expect(ice(sent.b)).toHaveLength(1);
    expect((ice(sent.a)[0] as { candidates: unknown[] }).candidates).toHaveLength(4);
    expect(a.remoteCandidates).toBe(4);
    expect(b.remoteCandidates).toBe(4);
    expect(errors).toEqual([]);
  });

  it('glare: both add at once; the polite end rolls back and answers, the impolite one ignores; both end stable with everything negotiated', async () => {
    for (let round = 0; round < 10; round++) {
      const { a, b, errors } = pair(1 + (round % 4));
      a.addTrack();
      b.addTrack();
      await waitFor(() => stable(a, b), 3000, `round ${round}: connected`);
      // Settle any follow-up negotiation (b's own track after its rollback).
      await sleep(60);
      expect(a.signalingState).toBe('stable');
      expect(b.signalingState).toBe('stable');
      expect(b.log).toContain('rollback'); // the polite end gave way
      expect(a.log).not.toContain('rollback');
      // Each end's last local description includes both items: nothing left un-negotiated.
      expect(a.localDescription!.sdp).toContain('items=1');
      expect(b.localDescription!.sdp).toContain('items=1');
      expect(errors).toEqual([]);
    }
  });

  it('renegotiates when a track is added later, from either end', async () => {
    const { a, b, errors } = pair();
    a.addTrack();
    await waitFor(() => stable(a, b), 3000, 'connected');
    b.addTrack();
    await waitFor(() => b.offers === 1 && a.signalingState === 'stable' && b.signalingState === 'stable', 3000, 'b renegotiated');
    expect(a.answers).toBe(1);
    expect(errors).toEqual([]);
  });

  it('restarts ICE when the connection fails, and gives up after maxRestarts', async () => {
    const { a, b, na } = pair();
    let failed = 0;
    (na.options as { onFailed?: () => void }).onFailed = () => failed++;
    a.addTrack();
    await waitFor(() => stable(a, b), 3000, 'connected');
    a.setIce('failed');
    expect(na.stats.restarts).toBe(1);
    await waitFor(() => a.offers === 2 && b.answers === 2 && a.signalingState === 'stable', 3000, 'restart negotiated');
    expect(a.localDescription!.sdp).toContain('ice=1');
    await waitFor(() => a.connectionState === 'connected', 3000, 'connected again');
    // Connected again: the count starts over. Four failures in a row: three more restarts, then it gives up.
    for (let i = 0; i < 4; i++) a.setIce('failed');
    expect(na.stats.restarts).toBe(4);
    expect(failed).toBe(1);
  });

  it('the waiting end makes no offer before the peer’s; a closed negotiator sends nothing', async () => {
    const a = new FakePC();
    const sent: Sig[] = [];
    const n = createNegotiator(asPC(a), { polite: true, waitForOffer: true, send: (s) => sent.push(s) });
    a.addTrack();
    await sleep(30);
    expect(sent).toEqual([]);
    n.close();
    a.restartIce();
    await sleep(30);
    expect(sent).toEqual([]);
  });
});
