/** The connection phase (src/client/phase.ts): every transition, one by one, and the public state of each phase. */
import { describe, expect, it } from 'vitest';
import { connectionState, hasSocket, IDLE, transition, type Phase, type PhaseEvent } from '../../src/client/phase.js';

type P = Phase<string>;
const ws = 'ws1';
const other = 'ws2';
const fetching = (again: boolean): P => ({ name: 'fetching-token', again });
const connecting = (again: boolean, w = ws): P => ({ name: 'connecting', again, ws: w, jwt: 'j1' });
const handshaking = (again: boolean, w = ws): P => ({ name: 'handshaking', again, ws: w, jwt: 'j1' });
const open = (jwt = 'j1'): P => ({ name: 'open', ws, jwt });
const backoff: P = { name: 'backoff' };
const closed: P = { name: 'closed', why: 'connection closed by close()', resumable: false };
const idle = IDLE as P;
const all: P[] = [idle, fetching(false), fetching(true), connecting(false), connecting(true), handshaking(false), handshaking(true), open(), backoff, closed];

describe('connectionState', () => {
  it('derives the public state: closed at rest, open, reconnecting after a loss, else connecting', () => {
    expect(all.map((p) => [p.name, connectionState(p)])).toEqual([
      ['idle', 'closed'],
      ['fetching-token', 'connecting'],
      ['fetching-token', 'reconnecting'],
      ['connecting', 'connecting'],
      ['connecting', 'reconnecting'],
      ['handshaking', 'connecting'],
      ['handshaking', 'reconnecting'],
      ['open', 'open'],
      ['backoff', 'reconnecting'],
      ['closed', 'closed'],
    ]);
  });

  it('only connecting, handshaking and open hold a socket', () => {
    expect(all.filter(hasSocket).map((p) => p.name)).toEqual(['connecting', 'connecting', 'handshaking', 'handshaking', 'open']);
  });
});

describe('transition', () => {
  const go = (p: P, e: PhaseEvent<string>): P => transition(p, e);

  it('fetch-token: from rest a first attempt, after a loss a re-connection; already fetching: unchanged', () => {
    expect(go(idle, { type: 'fetch-token' })).toEqual(fetching(false));
    expect(go(closed, { type: 'fetch-token' })).toEqual(fetching(false));
    expect(go(backoff, { type: 'fetch-token' })).toEqual(fetching(true));
    // A refused token (4401) on a first attempt: the socket is gone, so the next one is a re-connection.
    expect(go(handshaking(false), { type: 'fetch-token' })).toEqual(fetching(true));
    expect(go(open(), { type: 'fetch-token' })).toEqual(fetching(true));
    const f = fetching(false);
    expect(go(f, { type: 'fetch-token' })).toBe(f);
  });

  it('dial: a new socket; "again" kept from a token fetch, set after a loss, clear from rest', () => {
    const dial = { type: 'dial', ws: other, jwt: 'j2' } as const;
    expect(go(idle, dial)).toEqual({ name: 'connecting', again: false, ws: other, jwt: 'j2' });
    expect(go(closed, dial)).toEqual({ name: 'connecting', again: false, ws: other, jwt: 'j2' });
    expect(go(fetching(false), dial)).toEqual({ name: 'connecting', again: false, ws: other, jwt: 'j2' });
    expect(go(fetching(true), dial)).toEqual({ name: 'connecting', again: true, ws: other, jwt: 'j2' });
    expect(go(backoff, dial)).toEqual({ name: 'connecting', again: true, ws: other, jwt: 'j2' });
    expect(go(handshaking(false), dial)).toEqual({ name: 'connecting', again: true, ws: other, jwt: 'j2' }); // a 4401, redialed at once
    expect(go(open(), dial)).toEqual({ name: 'connecting', again: true, ws: other, jwt: 'j2' });
  });

  it('socket-open: connecting with that socket -> handshaking; anything else unchanged', () => {
    expect(go(connecting(true), { type: 'socket-open', ws })).toEqual(handshaking(true));
    expect(go(connecting(false), { type: 'socket-open', ws })).toEqual(handshaking(false));
    for (const p of [connecting(false, other), ...all.filter((q) => q.name !== 'connecting')]) {
      expect(go(p, { type: 'socket-open', ws })).toBe(p);
    }
  });

  it('first-frame: handshaking with that socket -> open; anything else unchanged (a late frame of an old socket)', () => {
    expect(go(handshaking(true), { type: 'first-frame', ws })).toEqual(open());
    for (const p of [handshaking(false, other), ...all.filter((q) => q.name !== 'handshaking')]) {
      expect(go(p, { type: 'first-frame', ws })).toBe(p);
    }
  });

  it('token-swapped: open with that socket and that token -> open with the new token; else unchanged', () => {
    expect(go(open('j1'), { type: 'token-swapped', ws, from: 'j1', to: 'j2' })).toEqual(open('j2'));
    const swappedMeanwhile = open('j3');
    expect(go(swappedMeanwhile, { type: 'token-swapped', ws, from: 'j1', to: 'j2' })).toBe(swappedMeanwhile);
    const reconnected: P = { name: 'open', ws: other, jwt: 'j1' };
    expect(go(reconnected, { type: 'token-swapped', ws, from: 'j1', to: 'j2' })).toBe(reconnected);
    for (const p of all.filter((q) => q.name !== 'open')) expect(go(p, { type: 'token-swapped', ws, from: 'j1', to: 'j2' })).toBe(p);
  });

  it('lost: -> backoff from anywhere (a failed dial from rest too); backoff unchanged', () => {
    for (const p of all.filter((q) => q.name !== 'backoff')) expect(go(p, { type: 'lost' })).toEqual(backoff);
    expect(go(backoff, { type: 'lost' })).toBe(backoff);
  });

  it('close: -> closed from anywhere, with why and whether a new token reconnects', () => {
    for (const p of all) {
      expect(go(p, { type: 'close', why: 'unauthorized', resumable: true })).toEqual({ name: 'closed', why: 'unauthorized', resumable: true });
    }
  });

  it('a whole life: first connect, open, lost, backoff, reconnect, closed', () => {
    const events: PhaseEvent<string>[] = [
      { type: 'dial', ws, jwt: 'j1' },
      { type: 'socket-open', ws },
      { type: 'first-frame', ws },
      { type: 'lost' },
      { type: 'dial', ws: other, jwt: 'j1' },
      { type: 'socket-open', ws: other },
      { type: 'first-frame', ws: other },
      { type: 'close', why: 'bye', resumable: false },
    ];
    const seen: string[] = [];
    events.reduce<P>((p, e) => {
      const next = go(p, e);
      seen.push(`${next.name}:${connectionState(next)}`);
      return next;
    }, idle);
    expect(seen).toEqual([
      'connecting:connecting',
      'handshaking:connecting',
      'open:open',
      'backoff:reconnecting',
      'connecting:reconnecting',
      'handshaking:reconnecting',
      'open:open',
      'closed:closed',
    ]);
  });
});
