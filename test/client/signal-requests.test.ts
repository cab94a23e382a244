/**
 * The Signal's requests over the FakeWebSocket: join replies, timeouts, refusals, replies and methods it does not know.
 * Fake timers and the scripted FakeWebSocket (moved from test/unit/client-timing.test.ts, assertions unchanged).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalError } from '../../src/client/index.js';
import { setup } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('frames the client does not handle', () => {
  it('an unknown method, or a reply with an id it never sent (string, null, object), changes nothing and reports nothing', async () => {
    const { sig, fake, errors } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    const ch = sig.join('room', { presence: true });
    const join = JSON.parse(fake.last().sent.find((f) => f.includes('signal.join'))!) as { id: number };
    const seen: unknown[] = [];
    sig.on('message', (m) => seen.push(m));
    ch.on('message', (m) => seen.push(m));
    ch.on('participant', (p) => seen.push(p.id));
    for (const method of ['signal.future', 'signal.join_later', 'signal.sendx']) {
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method, params: { id: 'room', from: 'bob/web/r1', text: 'x' } }));
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method, params: { from: 'bob/web/r1', to: 'alice', text: 'x' } }));
    }
    for (const id of [String(join.id), null, { n: join.id }, true, 'x'.repeat(100)]) {
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id, result: { id: 'room', address: 'alice/web/r' } }));
      fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32002, message: 'no' } }));
    }
    expect(seen).toEqual([]);
    expect(errors).toEqual([]);
    expect(ch.status).toBe('joining');
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: join.id, result: { id: 'room', address: 'alice/web/r' } }));
    await ch.ready;
    expect(ch.status).toBe('joined');
    sig.close();
  });
});

describe('join request', () => {
  it('no reply within requestTimeout: the join is asked again, and the late reply resolves ready', async () => {
    const { sig, fake } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    const ch = sig.join('slow', { presence: true });
    const joins = () => fake.last().sent.filter((f) => f.includes('signal.join')).map((f) => JSON.parse(f) as { id: number });
    expect(joins()).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(joins()).toHaveLength(2);
    expect(ch.status).toBe('joining');
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: joins()[1]!.id, result: { id: 'slow', address: 'alice/web/r' } }));
    await ch.ready;
    expect(ch.status).toBe('joined');
    // A reply to the timed-out first request is ignored.
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: joins()[0]!.id, error: { code: -32002, message: 'late' } }));
    expect(ch.status).toBe('joined');
    sig.close();
  });

  it('a refusal fails the channel with the server error and removes it', async () => {
    const { sig, fake, errors } = setup();
    fake.last().accept();
    const ch = sig.join('nope');
    const chErrors: SignalError[] = [];
    ch.on('error', (e) => chErrors.push(e));
    const req = JSON.parse(fake.last().sent[1]!) as { id: number };
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: req.id, error: { code: -32002, message: 'forbidden' } }));
    await expect(ch.ready).rejects.toMatchObject({ code: 'SIGNAL_ERR_FORBIDDEN', rpcCode: -32002, channel: 'nope', method: 'signal.join' });
    expect(ch.status).toBe('failed');
    expect(sig.channels.has('nope')).toBe(false);
    expect(chErrors).toHaveLength(1);
    expect(errors).toEqual([]);
    sig.close();
  });
});
