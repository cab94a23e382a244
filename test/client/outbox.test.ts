/** The outgoing queue (src/client/outbox.ts) on its own: size checks, the bound, pacing, open/pause/drop, told rates. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SignalError } from '../../src/client/errors.js';
import { outbox, type Pace } from '../../src/client/outbox.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(opts: { maxQueue?: number; maxFrameBytes?: number; pace?: Pace | null; open?: boolean } = {}) {
  const state = { open: opts.open ?? true, accepts: true };
  const written: string[] = [];
  const errors: SignalError[] = [];
  const box = outbox(
    { isOpen: () => state.open, accepts: () => state.accepts, write: (t) => written.push(t), report: (e) => errors.push(e) },
    opts.maxQueue ?? 256,
    opts.maxFrameBytes ?? 65_536,
    opts.pace === undefined ? { framesPerSecond: 10, burst: 3 } : opts.pace,
  );
  const ns = () => written.map((t) => (t.startsWith('{') ? (JSON.parse(t) as { params: { n?: number } }).params.n : t));
  return { box, state, written, errors, ns };
}

describe('outbox', () => {
  it('writes at once while open and within the burst, then paces in order', () => {
    const { box, ns } = setup();
    for (let n = 0; n < 6; n++) box.call('signal.send', { to: 'b', n });
    expect(ns()).toEqual([0, 1, 2]);
    expect(box.length).toBe(3);
    vi.advanceTimersByTime(100);
    expect(ns()).toEqual([0, 1, 2, 3]);
    vi.advanceTimersByTime(200);
    expect(ns()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('no pace: everything at once', () => {
    const { box, ns } = setup({ pace: null });
    for (let n = 0; n < 50; n++) box.call('signal.send', { to: 'b', n });
    expect(ns()).toHaveLength(50);
  });

  it('refuses, carrying the payload: too large (TOO_LARGE), closed (CLOSED), full (QUEUE_FULL)', () => {
    const { box, state, errors } = setup({ maxQueue: 1, maxFrameBytes: 100, open: false });
    box.call('signal.send', { to: 'b', big: 'é'.repeat(60) });
    box.call('signal.send', { to: 'b', n: 1 });
    box.call('signal.send', { to: 'b', n: 2 });
    state.accepts = false;
    box.call('signal.send', { to: 'b', n: 3 });
    box.call('signal.send', { to: 'b', big: 'x'.repeat(200) }); // too large wins over closed
    expect(errors.map((e) => [e.code, e.method, e.payload])).toEqual([
      ['SIGNAL_ERR_TOO_LARGE', 'signal.send', { to: 'b', big: 'é'.repeat(60) }],
      ['SIGNAL_ERR_QUEUE_FULL', 'signal.send', { to: 'b', n: 2 }],
      ['SIGNAL_ERR_CLOSED', 'signal.send', { to: 'b', n: 3 }],
      ['SIGNAL_ERR_TOO_LARGE', 'signal.send', { to: 'b', big: 'x'.repeat(200) }],
    ]);
    expect(errors[0]!.message).toBe('signal.send not sent: frame larger than 100 bytes');
    expect(box.length).toBe(1);
  });

  it('a frame of 3-byte characters is measured in UTF-8 bytes', () => {
    const { box, errors, written } = setup({ maxFrameBytes: 200, pace: null });
    box.call('signal.send', { to: 'b', t: '€'.repeat(40) }); // ~160 bytes: fits
    box.call('signal.send', { to: 'b', t: '€'.repeat(60) }); // ~220 bytes: refused
    expect(written).toHaveLength(1);
    expect(errors.map((e) => e.code)).toEqual(['SIGNAL_ERR_TOO_LARGE']);
  });

  it('control frames only while open, never kept; pause() keeps user calls only; open() puts its frames first', () => {
    const { box, state, written } = setup({ pace: null, open: false });
    box.control('signal.publish', { id: 'r', state: 1 }); // not open: dropped (re-issued on open)
    box.call('signal.send', { to: 'b', n: 1 });
    box.request('{"req":1}');
    expect(box.length).toBe(2);
    box.pause();
    expect(box.length).toBe(1);
    state.open = true;
    box.open(() => box.request('{"join":1}'));
    expect(written).toEqual(['{"join":1}', '{"jsonrpc":"2.0","method":"signal.send","params":{"to":"b","n":1}}']);
  });

  it('open() refills the burst; urgent() writes ahead of the queue but counts', () => {
    const { box, ns } = setup();
    for (let n = 0; n < 4; n++) box.call('signal.send', { to: 'b', n });
    box.urgent('_ping'); // one token owed now
    expect(ns()).toEqual([0, 1, 2, '_ping']);
    vi.advanceTimersByTime(100);
    expect(ns()).toEqual([0, 1, 2, '_ping']); // the ping's token was paid back first
    vi.advanceTimersByTime(100);
    expect(ns()).toEqual([0, 1, 2, '_ping', 3]);
    box.open(() => {});
    for (let n = 4; n < 7; n++) box.call('signal.send', { to: 'b', n });
    expect(ns()).toEqual([0, 1, 2, '_ping', 3, 4, 5, 6]);
  });

  it('drop() reports every waiting payload once (control frames as undefined)', () => {
    const { box, errors } = setup({ open: false });
    box.drop('nothing there');
    expect(errors).toEqual([]);
    box.call('signal.send', { to: 'b', n: 1 });
    box.request('{"req":1}');
    box.drop('closed');
    expect(errors.map((e) => [e.code, e.message, e.payload])).toEqual([
      ['SIGNAL_ERR_CLOSED', '2 queued frame(s) dropped: closed', [{ to: 'b', n: 1 }, undefined]],
    ]);
    expect(box.length).toBe(0);
  });

  it('adopt(): 90% of a told rate; null or a huge rate means none; garbage is ignored', () => {
    const { box, ns } = setup({ pace: { framesPerSecond: 1, burst: 1 } });
    box.adopt({ framesPerSecond: 100, burst: 10 }); // -> 90/s, burst 9, level kept (1)
    for (let n = 0; n < 10; n++) box.call('signal.send', { to: 'b', n });
    expect(ns()).toEqual([0]);
    vi.advanceTimersByTime(100);
    expect(ns().length).toBe(10);
    for (const junk of [null, 5, 'x', { framesPerSecond: -1, burst: 5 }, { framesPerSecond: 5, burst: 0 }, { framesPerSecond: '5', burst: 5 }]) box.adopt(junk);
    for (let n = 10; n < 30; n++) box.call('signal.send', { to: 'b', n });
    expect(ns().length).toBeLessThan(30); // still paced
    box.adopt({ framesPerSecond: null, burst: null });
    vi.advanceTimersByTime(1);
    expect(ns().length).toBe(30);
    box.adopt({ framesPerSecond: 1e9, burst: 1e9 });
    for (let n = 30; n < 100; n++) box.call('signal.send', { to: 'b', n });
    expect(ns().length).toBe(100);
  });
});
