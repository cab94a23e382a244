import { describe, expect, it } from 'vitest';
import { callReducer, IDLE, type CallEvent, type CallMachine } from '../../src/calls/call-state.js';

const media = { audio: true, video: true };
const run = (...events: CallEvent[]): CallMachine => events.reduce(callReducer, IDLE);

describe('callReducer (the call state machine)', () => {
  it('outgoing: idle → outgoing → (ringing on two devices) → connecting with the answering endpoint → connected → ended', () => {
    let s = run({ type: 'start', id: 'c1', to: 'bob', media, data: false });
    expect(s).toMatchObject({ status: 'outgoing', direction: 'outgoing', id: 'c1', to: 'bob', peer: { identity: 'bob' } });
    s = run({ type: 'start', id: 'c1', to: 'bob', media, data: false }, { type: 'ringing', from: 'bob/phone/r1' }, { type: 'ringing', from: 'bob/tab/r2' }, { type: 'ringing', from: 'bob/tab/r2' });
    expect(s.ringing).toEqual(['bob/phone/r1', 'bob/tab/r2']);
    s = callReducer(s, { type: 'accepted', from: 'bob/tab/r2' });
    expect(s).toMatchObject({ status: 'connecting', peer: { identity: 'bob', device: 'tab', address: 'bob/tab/r2' }, ringing: [] });
    s = callReducer(s, { type: 'connected' });
    expect(s.status).toBe('connected');
    s = callReducer(s, { type: 'peer-moved', address: 'bob/tab/r9' });
    expect(s.peer?.address).toBe('bob/tab/r9');
    s = callReducer(s, { type: 'end', reason: 'hung-up' });
    expect(s).toMatchObject({ status: 'ended', endedReason: 'hung-up' });
    expect(callReducer(s, { type: 'reset' })).toBe(IDLE);
  });

  it('incoming: idle → incoming → accept → connecting; or ended with a reason and detail', () => {
    const inc = run({ type: 'invited', id: 'c2', from: 'alice/web/r1', media, data: true });
    expect(inc).toMatchObject({ status: 'incoming', direction: 'incoming', data: true, peer: { identity: 'alice', device: 'web', address: 'alice/web/r1' } });
    expect(callReducer(inc, { type: 'accept' }).status).toBe('connecting');
    expect(callReducer(inc, { type: 'end', reason: 'answered-elsewhere' })).toMatchObject({ status: 'ended', endedReason: 'answered-elsewhere' });
    expect(callReducer(inc, { type: 'end', reason: 'declined', detail: 'in a meeting' }).endedDetail).toBe('in a meeting');
  });

  it('an event that does not apply returns the very same object', () => {
    const idleCases: CallEvent[] = [{ type: 'accept' }, { type: 'accepted', from: 'b/d/r' }, { type: 'connected' }, { type: 'ringing', from: 'b/d/r' }, { type: 'end', reason: 'failed' }, { type: 'reset' }, { type: 'peer-moved', address: 'b/d/r' }];
    for (const e of idleCases) expect(callReducer(IDLE, e)).toBe(IDLE);
    const out = run({ type: 'start', id: 'c', to: 'bob', media, data: false });
    for (const e of [{ type: 'accept' }, { type: 'connected' }, { type: 'start', id: 'd', to: 'carol', media, data: false }, { type: 'invited', id: 'e', from: 'x/y/z', media, data: false }] as CallEvent[]) {
      expect(callReducer(out, e)).toBe(out); // a second call never replaces the one in progress
    }
    const inc = run({ type: 'invited', id: 'c', from: 'a/b/c', media, data: false });
    expect(callReducer(inc, { type: 'accepted', from: 'a/b/c' })).toBe(inc);
    expect(callReducer(inc, { type: 'ringing', from: 'a/b/c' })).toBe(inc);
    const ended = callReducer(inc, { type: 'end', reason: 'cancelled' });
    expect(callReducer(ended, { type: 'end', reason: 'timeout' })).toBe(ended); // the first reason stays
    expect(callReducer(ended, { type: 'connected' })).toBe(ended);
    // Once ended, a new call may start (or come in) without a reset.
    expect(callReducer(ended, { type: 'start', id: 'n', to: 'bob', media, data: false }).status).toBe('outgoing');
  });
});
