/**
 * Batched presence (extension) beside the Bit6 SDK's per-member form in one channel: our Signal client asks for
 * batches and gets them; SDK clients (raw sockets sending exactly the SDK's frames) keep getting one join/join_back/
 * leave frame per member and never a `signal.presence` frame; both see the same roster and states.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';
import { RawPool, type RawClient } from './raw-client.js';

let srv: TestServer;
const pool = new RawPool();
beforeEach(async () => {
  srv = await startTestServer();
});
afterEach(async () => {
  pool.closeAll();
  await srv.close();
});

const note = (method: string, params: Record<string, unknown>) => ({ jsonrpc: '2.0', method, params });
const connect = async (identity: string): Promise<RawClient> => pool.connect(srv.url, await srv.token(identity, 'sdk'));

describe('batched presence beside the Bit6 SDK', () => {
  it('our client (batched) and SDK clients (per member) share a channel: same roster and states, each in its own form', async () => {
    let presenceFrames = 0;
    const sig = await srv.connect('new', 'web');
    const ch = sig.join<{ text: string }, { v: string }>('mix', { presence: true });
    ch.on('batch', (open) => open && presenceFrames++);
    await ch.ready;
    const me = ch.me.id!;
    ch.me.updateState({ v: 'new' });
    // Two SDK clients join after us: they get our join_back and our state the Bit6 way.
    const sdk1 = await connect('old1');
    sdk1.notify('signal.join', { id: 'mix', presence: true });
    expect(await sdk1.next()).toStrictEqual(note('signal.join_back', { id: 'mix', from: me }));
    expect(await sdk1.next()).toStrictEqual(note('signal.send', { id: 'mix', from: me, to: expect.stringMatching(/^old1\/sdk\//), state: { v: 'new' } }));
    sdk1.notify('signal.publish', { id: 'mix', state: { v: 'old1' } });
    const sdk2 = await connect('old2');
    sdk2.notify('signal.join', { id: 'mix', presence: true });
    const joinBacks = [await sdk2.next(), await sdk2.next()].map((f) => (f.params as { from: string }).from.split('/')[0]).sort();
    expect(joinBacks).toEqual(['new', 'old1']);
    // Our client learns both from batches, with sdk1's state.
    await waitFor(() => ch.participants.size === 2 && [...ch.participants.values()].some((p) => p.state?.v === 'old1'), 3000, 'both SDK members');
    expect(presenceFrames).toBeGreaterThanOrEqual(1);
    // sdk1 sees sdk2 join the Bit6 way.
    expect(await sdk1.next()).toStrictEqual(note('signal.join', { id: 'mix', from: expect.stringMatching(/^old2\/sdk\//) }));
    // sdk2 leaves: sdk1 gets a leave frame, our client a batch.
    sdk2.notify('signal.leave', { id: 'mix' });
    expect(await sdk1.next()).toStrictEqual(note('signal.leave', { id: 'mix', from: expect.stringMatching(/^old2\/sdk\//) }));
    await waitFor(() => ch.participants.size === 1, 3000, 'sdk2 to leave');
    expect([...ch.participants.values()].map((p) => [p.identity, p.state])).toEqual([['old1', { v: 'old1' }]]);
    // Messages and states flow both ways as before.
    ch.me.updateState({ v: 'newer' });
    expect(await sdk1.next()).toStrictEqual(note('signal.publish', { id: 'mix', state: { v: 'newer' }, from: me }));
    // No SDK client ever saw the extension.
    for (const c of [sdk1, sdk2]) expect(c.frames.filter((f) => f.text.includes('signal.presence'))).toEqual([]);
  });
});
