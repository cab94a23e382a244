/** Request/reply correlation (src/client/requests.ts): ids, replies, timeouts, settling all at once. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalError } from '../../src/client/errors.js';
import { Requests } from '../../src/client/requests.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Requests', () => {
  it('numbers requests from 1; a reply settles the one with its id, once', async () => {
    const r = new Requests(1000);
    const a = r.start('signal.join', 'room');
    const b = r.start('signal.refresh');
    expect([a.id, b.id, r.size]).toEqual([1, 2, 2]);
    expect(r.settle({ id: 2, result: { ok: true } })).toBe(true);
    expect(r.settle({ id: 2, result: { ok: false } })).toBe(false);
    await expect(b.reply).resolves.toEqual({ ok: true });
    expect(r.settle({ id: 1, error: { code: -32002, message: 'forbidden' } })).toBe(true);
    await expect(a.reply).rejects.toMatchObject({ code: 'SIGNAL_ERR_FORBIDDEN', rpcCode: -32002, method: 'signal.join', channel: 'room' });
    expect(r.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an id it never sent (or a string id) matches nothing', () => {
    const r = new Requests(1000);
    r.start('signal.join');
    for (const id of ['1', 7, 'x']) expect(r.settle({ id, result: null })).toBe(false);
    expect(r.size).toBe(1);
  });

  it('onResult runs with the result before the promise resolves, as the reply is read', async () => {
    const r = new Requests(1000);
    const seen: unknown[] = [];
    const { id, reply } = r.start('signal.join', 'room', (res) => seen.push(res));
    r.settle({ id, result: { address: 'a/b/c' } });
    expect(seen).toEqual([{ address: 'a/b/c' }]); // synchronously
    await reply;
  });

  it('times out with SIGNAL_ERR_TIMEOUT; a late reply is ignored', async () => {
    const r = new Requests(1000);
    const { id, reply } = r.start('signal.join');
    const settled = expect(reply).rejects.toMatchObject({ code: 'SIGNAL_ERR_TIMEOUT', message: 'signal.join timed out', method: 'signal.join' });
    vi.advanceTimersByTime(999);
    expect(r.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(r.size).toBe(0);
    await settled;
    expect(r.settle({ id, result: 1 })).toBe(false);
  });

  it('rejectAll settles every waiting request with the error and clears the timers', async () => {
    const r = new Requests(1000);
    const a = r.start('signal.join');
    const b = r.start('signal.join');
    const err = new SignalError('SIGNAL_ERR_CLOSED', 'connection closed');
    r.rejectAll(err);
    await expect(a.reply).rejects.toBe(err);
    await expect(b.reply).rejects.toBe(err);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Requests.call', () => {
  it('encodes with the next id and sends while open; refused with SIGNAL_ERR_CLOSED when not', async () => {
    const sent: string[] = [];
    let open = true;
    const r = new Requests(1000, (t) => sent.push(t), () => open);
    const reply = r.call('signal.join', { id: 'room', presence: true });
    expect(sent).toEqual(['{"jsonrpc":"2.0","method":"signal.join","params":{"id":"room","presence":true},"id":1}']);
    r.settle({ id: 1, error: { code: -32002, message: 'no' } });
    await expect(reply).rejects.toMatchObject({ code: 'SIGNAL_ERR_FORBIDDEN', channel: 'room', method: 'signal.join' });
    open = false;
    await expect(r.call('signal.refresh', { jwt: 'x' })).rejects.toMatchObject({ code: 'SIGNAL_ERR_CLOSED', message: 'not connected', method: 'signal.refresh' });
    expect(sent).toHaveLength(1);
  });
});
