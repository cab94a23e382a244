// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { socketUpdatesOutsideAct } from './act-env.js';
import { NodeWebSocket, startTestServer, type TestServer } from '../../src/testing/index.js';
import type { Signal } from '../../src/client/index.js';
import { PresenceList, SignalProvider, TypingIndicator, formatTyping, useMyState } from '../../src/index.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { useEffect } from 'react';

socketUpdatesOutsideAct();

let srv: TestServer | undefined;
afterEach(async () => {
  cleanup();
  await sleep(20);
  await srv?.close();
  srv = undefined;
});

const opts = { WebSocket: NodeWebSocket };

async function members(s: TestServer, names: string[], channel: string, withState: (i: number) => object | undefined) {
  const clients: Signal[] = [];
  for (const [i, n] of names.entries()) {
    const c = await s.connect(n, `d${i}`);
    const ch = c.join(channel, { presence: true });
    await ch.ready;
    const st = withState(i);
    if (st) ch.me.updateState(st);
    clients.push(c);
  }
  return clients;
}

describe('formatTyping', () => {
  it('writes the English sentences', () => {
    expect(formatTyping([])).toBe('');
    expect(formatTyping(['Alice'])).toBe('Alice is typing…');
    expect(formatTyping(['Alice', 'Bob'])).toBe('Alice and Bob are typing…');
    expect(formatTyping(['Alice', 'Bob', 'Carol'])).toBe('Alice, Bob and Carol are typing…');
    expect(formatTyping(['Alice', 'Bob', 'C', 'D', 'E'])).toBe('Alice, Bob and 3 others are typing…');
  });
});

describe('TypingIndicator', () => {
  it('shows who types (names from state), expires, and renders no text when nobody types', async () => {
    srv = await startTestServer();
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const clients = await members(srv, names, 'chat', (i) => ({ name: names[i]![0]!.toUpperCase() + names[i]!.slice(1) }));
    const token = await srv.token('me', 'web');
    render(
      <SignalProvider token={token} options={opts}>
        <TypingIndicator channel="chat" className="mine" />
        <div data-testid="fr">
          <TypingIndicator channel="chat" format={(n) => `${n.join(' et ')} écrit…`} />
        </div>
      </SignalProvider>,
    );
    const region = () => document.querySelector('.rss-typing.mine')!;
    await waitFor(() => region(), 3000, 'region');
    expect(region().getAttribute('aria-live')).toBe('polite');
    expect(region().textContent).toBe('');
    expect(region().hasAttribute('data-empty')).toBe(true);
    await sleep(300); // my join must be acknowledged before their frames reach me
    const ch = (i: number) => clients[i]!.channels.get('chat')!;
    ch(0).publish({ $typing: 3000 });
    await waitFor(() => region().textContent === 'Alice is typing…', 3000, 'one typist');
    expect(screen.getByTestId('fr').textContent).toBe('Alice écrit…');
    ch(1).publish({ $typing: 3000 });
    await waitFor(() => region().textContent === 'Alice and Bob are typing…', 3000, 'two typists');
    for (const i of [2, 3, 4]) ch(i).publish({ $typing: 3000 });
    await waitFor(() => region().textContent === 'Alice, Bob and 3 others are typing…', 3000, 'five typists');
    // stop frame, a message, and leaving all end "typing"
    ch(0).publish({ $typing: 0 });
    ch(1).publish({ text: 'sent it' });
    ch(2).leave();
    await waitFor(() => region().textContent === 'Dave and Erin are typing…', 3000, 'three stopped');
    // the rest expires by itself (ttl 300 ms)
    ch(3).publish({ $typing: 300 });
    ch(4).publish({ $typing: 300 });
    await waitFor(() => region().textContent === '', 3000, 'expired');
  });
});

describe('PresenceList', () => {
  it('lists me first and marked, names from state or identity, max with +N, renderItem', async () => {
    srv = await startTestServer();
    await members(srv, ['bob', 'carol', 'dave', 'erin'], 'room', (i) => (i === 0 ? { name: 'Bobby' } : undefined));
    const token = await srv.token('alice', 'web');
    function SetMine() {
      const [, set] = useMyState<{ name: string }>('room');
      useEffect(() => set({ name: 'Alice A.' }), [set]);
      return null;
    }
    render(
      <SignalProvider token={token} options={opts}>
        <SetMine />
        <PresenceList channel="room" />
        <PresenceList channel="room" max={3} label="Room 1" className="short" />
        <PresenceList
          channel="room"
          label="custom"
          renderItem={(it) => <b data-me={it.isMe ? 'yes' : 'no'}>{`${it.name}@${it.identity}`}</b>}
        />
      </SignalProvider>,
    );
    const full = () => screen.getByRole('list', { name: 'Participants in room' });
    await waitFor(() => full().querySelectorAll('li').length === 5, 5000, '5 entries');
    await waitFor(() => full().textContent?.includes('Alice A.'), 3000, 'my name');
    const items = [...full().querySelectorAll('li')].map((li) => li.textContent);
    expect(items).toEqual(['Alice A. (you)', 'Bobby', 'carol', 'dave', 'erin']);
    expect(full().querySelector('li')!.hasAttribute('data-me')).toBe(true);
    expect(full().querySelectorAll('[data-me]')).toHaveLength(1);

    const short = screen.getByRole('list', { name: 'Room 1' });
    expect(short.classList.contains('rss-presence')).toBe(true);
    expect([...short.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['Alice A. (you)', 'Bobby', 'carol', '+2']);
    expect(short.querySelector('.rss-presence__more')!.getAttribute('aria-label')).toBe('2 more');

    const custom = screen.getByRole('list', { name: 'custom' });
    expect(custom.querySelector('b')!.textContent).toBe('Alice A.@alice');
    expect(custom.querySelector('b')!.getAttribute('data-me')).toBe('yes');
    expect(custom.querySelectorAll('b[data-me="no"]')).toHaveLength(4);
  });
});
