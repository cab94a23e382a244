/** Typing frames: one home in src/protocol/typing.ts; Channel emits them as `typing`, never as `message`. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TYPING_MS, TYPING_KEY, TYPING_MS, typingMs } from '../../src/protocol/typing.js';
import { setup } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('typingMs', () => {
  it('a number under $typing in a publish: capped at 30 s, 0 (or less) for stopped; else not a typing frame', () => {
    expect([TYPING_KEY, TYPING_MS, MAX_TYPING_MS]).toEqual(['$typing', 5000, 30000]);
    expect(typingMs({ $typing: 5000 })).toBe(5000);
    expect(typingMs({ $typing: 600_000 })).toBe(30_000);
    expect(typingMs({ $typing: 0 })).toBe(0);
    expect(typingMs({ $typing: -5 })).toBe(0);
    expect(typingMs({ $typing: '5000' })).toBeUndefined();
    expect(typingMs({ text: 'hi' })).toBeUndefined();
    expect(typingMs({ $typing: 5000, to: 'alice/web/r1' })).toBeUndefined(); // a direct message is never a typing frame
  });
});

describe('Channel typing', () => {
  async function joined() {
    const { sig, fake, errors } = setup({ pingInterval: 1e9 });
    fake.last().accept();
    const ch = sig.join('room', { presence: true });
    const join = JSON.parse(fake.last().sent.find((f) => f.includes('signal.join'))!) as { id: number };
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', id: join.id, result: { id: 'room', address: 'alice/web/me' } }));
    await ch.ready;
    fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method: 'signal.join_back', params: { id: 'room', from: 'bob/web/r1' } }));
    const note = (method: string, params: object) => fake.last().receive(JSON.stringify({ jsonrpc: '2.0', method, params: { id: 'room', ...params } }));
    return { sig, fake, ch, errors, note };
  }

  it("emits 'typing' (from, ms, participant) for a typing frame; 'message' never sees it, nor the participant", async () => {
    const { sig, ch, note, errors } = await joined();
    const typing: [string, number, string | undefined][] = [];
    const messages: unknown[] = [];
    const direct: unknown[] = [];
    ch.on('typing', (from, ms, p) => typing.push([from, ms, p?.identity]));
    ch.on('message', (m) => messages.push(m));
    sig.on('message', (m) => direct.push(m));
    const bob = ch.participants.get('bob/web/r1')!;
    const bobMessages: unknown[] = [];
    bob.on('message', (m) => bobMessages.push(m));
    note('signal.publish', { from: 'bob/web/r1', $typing: 5000 });
    note('signal.publish', { from: 'bob/web/r1', $typing: 120_000 });
    note('signal.publish', { from: 'carol/web/r9', $typing: 0 }); // not (yet) a participant
    note('signal.publish', { from: 'bob/web/r1', text: 'hi' });
    expect(typing).toEqual([
      ['bob/web/r1', 5000, 'bob'],
      ['bob/web/r1', 30_000, 'bob'],
      ['carol/web/r9', 0, undefined],
    ]);
    expect(messages).toEqual([{ id: 'room', from: 'bob/web/r1', text: 'hi' }]);
    expect(bobMessages).toEqual(messages);
    expect(direct).toEqual([]);
    expect(errors).toEqual([]);
    sig.close();
  });

  it('an in-channel direct message carrying $typing is a message (to me), not a typing frame', async () => {
    const { sig, ch, note } = await joined();
    const typing: unknown[] = [];
    const messages: unknown[] = [];
    ch.on('typing', (...a) => typing.push(a));
    ch.on('message', (m) => messages.push(m));
    note('signal.send', { from: 'bob/web/r1', to: 'alice/web/me', $typing: 5000 });
    expect(typing).toEqual([]);
    expect(messages).toHaveLength(1);
    sig.close();
  });

  it('sendTyping(ms) publishes {$typing: ms} (default 5 s); sendTyping(0) says stopped', async () => {
    const { sig, fake, ch } = await joined();
    fake.last().sent.length = 0;
    ch.sendTyping();
    ch.sendTyping(0);
    expect(fake.last().sent.map((f) => JSON.parse(f) as unknown)).toEqual([
      { jsonrpc: '2.0', method: 'signal.publish', params: { $typing: 5000, id: 'room' } },
      { jsonrpc: '2.0', method: 'signal.publish', params: { $typing: 0, id: 'room' } },
    ]);
    sig.close();
  });
});
