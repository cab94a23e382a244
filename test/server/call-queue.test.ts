/** The per-connection call queue (src/server/call-queue.ts) with a fake dispatch and a recording transport. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, ERROR } from '../../src/protocol/constants.js';
import type { ClientCall } from '../../src/protocol/frames.js';
import { CallQueue } from '../../src/server/call-queue.js';
import { Session, type OutFrame } from '../../src/server/session.js';

const limits = { ...DEFAULT_LIMITS, maxPendingCalls: 3, maxPendingBytes: 100 };
const join = (id: string, rpc?: number): ClientCall => ({ method: 'signal.join', params: { id }, ...(rpc === undefined ? {} : { id: rpc }) });
const pub = (id: string, rpc?: number): ClientCall => ({ method: 'signal.publish', params: { id, n: 1 }, ...(rpc === undefined ? {} : { id: rpc }) });

function setup(behave: (call: ClientCall) => void | Promise<void> = () => {}) {
  const ran: string[] = [];
  const pending: (() => void)[] = [];
  const out: Record<string, unknown>[] = [];
  const s = new Session(
    { send: (f: OutFrame) => void out.push(JSON.parse(f.text) as Record<string, unknown>), close: () => {}, terminate: () => {}, bufferedAmount: () => 0 },
    'a', 'd', 'r', {}, 100, 0,
  );
  const q = new CallQueue(limits, (_s, call) => {
    ran.push(`${call.method.slice(7)} ${(call.params as { id: string }).id}`);
    if (call.method === 'signal.join') return new Promise<void>((r) => pending.push(r));
    return behave(call);
  });
  /** Finish the oldest unfinished async call and let the queue go on. */
  const finish = async (): Promise<void> => {
    pending.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { s, q, ran, out, finish };
}

describe('CallQueue', () => {
  it('calls run at once while none is unfinished', () => {
    const { s, q, ran } = setup();
    q.submit(s, pub('a'), 10);
    q.submit(s, pub('b'), 10);
    expect(ran).toEqual(['publish a', 'publish b']);
    expect(s.busy).toBe(false);
  });

  it('behind an async call, later ones wait and then run in order, up to the next async one', async () => {
    const { s, q, ran, finish } = setup();
    q.submit(s, join('j1'), 10);
    q.submit(s, pub('a'), 10);
    q.submit(s, join('j2'), 10);
    q.submit(s, pub('b'), 10);
    expect(ran).toEqual(['join j1']);
    expect([s.busy, s.queue?.length, s.queuedBytes]).toEqual([true, 3, 30]);
    await finish();
    expect(ran).toEqual(['join j1', 'publish a', 'join j2']);
    expect([s.busy, s.queue?.length, s.queuedBytes]).toEqual([true, 1, 10]);
    await finish();
    expect(ran).toEqual(['join j1', 'publish a', 'join j2', 'publish b']);
    expect([s.busy, s.queue, s.queuedBytes]).toEqual([false, null, 0]);
  });

  it('past maxPendingCalls or maxPendingBytes a call is refused with -32008 (a signal.error, or an error reply to a request)', () => {
    const { s, q, ran, out } = setup();
    q.submit(s, join('j'), 10);
    q.submit(s, pub('a'), 50);
    q.submit(s, pub('big'), 51); // 50 + 51 > 100 bytes
    q.submit(s, pub('b'), 30);
    q.submit(s, pub('c'), 10);
    q.submit(s, pub('d', 9), 1); // a fourth waiting call: over 3
    expect(ran).toEqual(['join j']);
    expect([s.queue?.length, s.queuedBytes]).toEqual([3, 90]);
    expect(out).toEqual([
      { jsonrpc: '2.0', method: 'signal.error', params: { code: ERROR.BUSY, message: 'too many calls waiting for an earlier one to finish', method: 'signal.publish', id: 'big' } },
      { jsonrpc: '2.0', id: 9, error: { code: ERROR.BUSY, message: 'too many calls waiting for an earlier one to finish' } },
    ]);
  });

  it('a closed connection drops what waits; the unfinished call ending runs nothing more', async () => {
    const { s, q, ran, finish } = setup();
    q.submit(s, join('j'), 10);
    q.submit(s, pub('a'), 10);
    s.closed = true;
    q.drop(s);
    expect([s.queue, s.queuedBytes]).toEqual([null, 0]);
    await finish();
    expect(ran).toEqual(['join j']);
  });

  it('a call that throws is answered (-32603; -32602 for a RangeError) and the queue goes on', async () => {
    const { s, q, out } = setup((call) => {
      const id = (call.params as { id: string }).id;
      if (id === 'boom') throw new Error('boom');
      if (id === 'deep') throw new RangeError('Maximum call stack size exceeded');
      if (id === 'later') return Promise.reject(new Error('later'));
    });
    q.submit(s, pub('boom', 1), 10);
    q.submit(s, pub('deep'), 10);
    q.submit(s, pub('later', 2), 10);
    q.submit(s, pub('after', 3), 10);
    await new Promise((r) => setTimeout(r, 0));
    expect(out).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: ERROR.INTERNAL, message: 'internal error: boom' } },
      { jsonrpc: '2.0', method: 'signal.error', params: { code: ERROR.INVALID_PARAMS, message: 'params nested too deeply', method: 'signal.publish', id: 'deep' } },
      { jsonrpc: '2.0', id: 2, error: { code: ERROR.INTERNAL, message: 'internal error: later' } },
    ]);
    expect(s.busy).toBe(false);
  });
});
