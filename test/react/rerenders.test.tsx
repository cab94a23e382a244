// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { reactServers } from './fixture.js';
import { measureCrossTalk, measureStateUpdate, measureTypingBurst } from './scenarios.js';

const startServer = reactServers();

describe('re-render guarantees (real server)', () => {
  it('100 participants, one state update: exactly 1 row re-renders, not the list nor the other 99', async () => {
    const srv = await startServer();
    const r = await measureStateUpdate(srv, 100);
    expect(r.rowRenders).toBe(1);
    expect(r.rowsRendered).toHaveLength(1);
    expect(r.listRenders).toBe(0);
    expect(r.presenceListRowRenders).toBe(1);
  }, 60_000);

  it('50 notifyTyping() calls re-render the other side\'s TypingIndicator at most twice', async () => {
    const srv = await startServer();
    const r = await measureTypingBurst(srv, 50);
    expect(r.shown).toBe('alice is typing…');
    expect(r.framesSent).toBeGreaterThanOrEqual(1);
    expect(r.framesSent).toBeLessThanOrEqual(r.framesAllowed); // 1 unless the box stalled the burst past 1 s
    expect(r.indicatorRenders).toBeGreaterThanOrEqual(1);
    expect(r.indicatorRenders).toBeLessThanOrEqual(2);
  }, 30_000);

  it('a direct message re-renders no channel component; a channel message re-renders no presence component', async () => {
    const srv = await startServer();
    const r = await measureCrossTalk(srv);
    expect(r.dmViewRenders).toBeGreaterThanOrEqual(1);
    expect(r.dmChannelRenders).toBe(0);
    expect(r.channelMsgChannelRenders).toBeGreaterThanOrEqual(1);
    expect(r.channelMsgPresenceRenders).toBe(0);
  });
});
