// @vitest-environment jsdom
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { members, reactServers } from '../react/fixture.js';
import { TypingIndicator, formatTyping } from '../../src/index.js';
import { sleep, waitFor } from '../helpers/wait.js';

const startServer = reactServers();

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
    const srv = await startServer();
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const clients = await members(srv, names, 'chat', (i) => ({ name: names[i]![0]!.toUpperCase() + names[i]!.slice(1) }));
    const AsMe = await srv.provider('me');
    render(
      <AsMe>
        <TypingIndicator channel="chat" className="mine" />
        <div data-testid="fr">
          <TypingIndicator channel="chat" format={(n) => `${n.join(' et ')} écrit…`} />
        </div>
      </AsMe>,
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

  it('names a user typing on two devices once', async () => {
    const srv = await startServer();
    const clients = await members(srv, ['alice', 'alice', 'bob'], 'chat'); // alice/d0, alice/d1, bob/d2
    const AsMe = await srv.provider('me');
    render(
      <AsMe>
        <TypingIndicator channel="chat" />
      </AsMe>,
    );
    const region = () => document.querySelector('.rss-typing')!;
    await waitFor(() => region(), 3000, 'region');
    await sleep(300); // my join must be acknowledged before their frames reach me
    for (const c of clients) c.channels.get('chat')!.publish({ $typing: 3000 });
    await waitFor(() => region().textContent === 'alice and bob are typing…', 3000, 'alice once');
  });
});
