import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing/index.js';
import { waitFor } from './helpers/wait.js';

let srv: TestServer;
afterEach(async () => srv?.close());

describe('smoke', () => {
  it('direct message and channel presence', async () => {
    srv = await startTestServer();
    const alice = await srv.connect('alice', 'web');
    const bob = await srv.connect('bob', 'phone');
    const got: unknown[] = [];
    bob.on('message', (m) => got.push(m));
    alice.send({ to: 'bob', text: 'hi' });
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ to: 'bob', text: 'hi', from: expect.stringMatching(/^alice\/web\/.+/) });

    const ca = alice.join('room', { presence: true });
    await ca.ready;
    ca.me.updateState({ name: 'Alice' });
    const cb = bob.join('room', { presence: true });
    await cb.ready;
    expect([...cb.participants.values()].map((p) => p.identity)).toEqual(['alice']);
    await waitFor(() => [...cb.participants.values()][0]?.state);
    expect([...cb.participants.values()][0]!.state).toEqual({ name: 'Alice' });
    await waitFor(() => ca.participants.size === 1);
    const msgs: unknown[] = [];
    ca.on('message', (m) => msgs.push(m));
    cb.publish({ text: 'yo' });
    await waitFor(() => msgs.length === 1);
    cb.leave();
    await waitFor(() => ca.participants.size === 0);
  });
});
