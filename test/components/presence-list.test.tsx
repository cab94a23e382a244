// @vitest-environment jsdom
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { render, screen } from '@testing-library/react';
import { useEffect } from 'react';
import { describe, expect, it } from 'vitest';
import { members, reactServers } from '../react/fixture.js';
import type { WebSocketConstructor } from '../../src/client/index.js';
import { PresenceList, useConnectionState, useMyState, type PresenceItem } from '../../src/index.js';
import { sleep, waitFor } from '../helpers/wait.js';

const startServer = reactServers();

const texts = (list: HTMLElement): (string | null)[] => [...list.querySelectorAll('li')].map((li) => li.textContent);

describe('PresenceList', () => {
  it('lists me first and marked, names from state or identity, max with +N, renderItem', async () => {
    const srv = await startServer();
    await members(srv, ['bob', 'carol', 'dave', 'erin'], 'room', (i) => (i === 0 ? { name: 'Bobby' } : undefined));
    const AsAlice = await srv.provider('alice');
    function SetMine() {
      const [, set] = useMyState<{ name: string }>('room');
      useEffect(() => set({ name: 'Alice A.' }), [set]);
      return null;
    }
    render(
      <AsAlice>
        <SetMine />
        <PresenceList channel="room" />
        <PresenceList channel="room" max={3} label="Room 1" className="short" />
        <PresenceList
          channel="room"
          label="custom"
          renderItem={(it) => <b data-me={it.isMe ? 'yes' : 'no'}>{`${it.name}@${it.identity}`}</b>}
        />
      </AsAlice>,
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

  it('one entry per user however many tabs or devices, with the device count; groupBy="endpoint" lists every connection', async () => {
    const srv = await startServer();
    // Everyone in two tabs: Alice (me) on web + phone, Bob on web + phone, Carol twice on the same device.
    const named = (name: string) => () => ({ name });
    await members(srv, ['alice'], 'room', named('Alice')); // alice/d0: my other device
    const bobs = await members(srv, ['bob', 'bob'], 'room', named('Bob')); // bob/d0, bob/d1
    const carol = [await srv.connect('carol', 'laptop'), await srv.connect('carol', 'laptop')];
    for (const c of carol) {
      const ch = c.join('room', { presence: true });
      await ch.ready;
      ch.me.updateState({ name: 'Carol' });
    }
    const AsAlice = await srv.provider('alice', 'web');
    function SetMine() {
      const [, set] = useMyState<{ name: string }>('room');
      useEffect(() => set({ name: 'Alice' }), [set]);
      return null;
    }
    const items: PresenceItem[] = [];
    render(
      <AsAlice>
        <SetMine />
        <PresenceList channel="room" />
        <PresenceList channel="room" groupBy="endpoint" label="Connections" />
        <PresenceList channel="room" max={2} label="Short" />
        <PresenceList channel="room" showMe={false} label="Others" />
        <PresenceList
          channel="room"
          label="Custom"
          renderItem={(it) => {
            items.push(it);
            return `${it.identity}:${it.devices}`;
          }}
        />
      </AsAlice>,
    );
    const people = () => screen.getByRole('list', { name: 'Participants in room' });
    await waitFor(() => screen.getByRole('list', { name: 'Connections' }).querySelectorAll('li').length === 6, 5000, 'six connections');
    await waitFor(() => texts(people()).join() === 'Alice (you) (2 devices),Bob (2 devices),Carol', 5000, 'grouped by identity');
    expect(people().querySelectorAll('li')).toHaveLength(3); // not "Alice, Bob, Carol, Alice, Bob, Carol"
    expect(people().querySelector('li')!.hasAttribute('data-me')).toBe(true);
    expect(people().querySelector('.rss-presence__devices')!.textContent).toBe(' (2 devices)');
    await waitFor(() => texts(screen.getByRole('list', { name: 'Connections' })).every((t) => t !== 'alice' && t !== 'bob' && t !== 'carol'), 5000, 'states');
    expect(texts(screen.getByRole('list', { name: 'Connections' }))).toEqual(['Alice (you)', 'Alice', 'Bob', 'Bob', 'Carol', 'Carol']);
    expect(texts(screen.getByRole('list', { name: 'Short' }))).toEqual(['Alice (you) (2 devices)', 'Bob (2 devices)', '+1']);
    expect(texts(screen.getByRole('list', { name: 'Others' }))).toEqual(['Bob (2 devices)', 'Carol']);
    expect(texts(screen.getByRole('list', { name: 'Custom' }))).toEqual(['alice:2', 'bob:2', 'carol:1']);
    expect(items.find((it) => it.identity === 'bob')!.id).toMatch(/^bob\/d0\//); // the first connection in join order

    // Bob closes one tab: still one entry, now without a count.
    bobs[1]!.dispose();
    await waitFor(() => texts(people()).join() === 'Alice (you) (2 devices),Bob,Carol', 5000, 'bob on one device');
  });

  it('while my own connection is down, the last roster stays, marked stale (data-stale, aria-busy) until it is back', async () => {
    const srv = await startServer();
    await members(srv, ['bob'], 'room');
    // Alice's sockets: cut them, and keep her offline (connections refused) until told otherwise.
    let offline = false;
    const sockets = new Set<WebSocket>();
    class Cuttable extends WebSocket {
      constructor(url: string) {
        super(offline ? 'ws://127.0.0.1:1/' : url);
        sockets.add(this);
      }
    }
    const AsAlice = await srv.provider('alice');
    function Conn() {
      return <p data-testid="conn">{useConnectionState()}</p>;
    }
    render(
      <AsAlice options={{ WebSocket: Cuttable as unknown as WebSocketConstructor, reconnect: { initialDelay: 100, maxDelay: 300 } }}>
        <Conn />
        <PresenceList channel="room" />
      </AsAlice>,
    );
    const list = () => screen.getByRole('list', { name: 'Participants in room' });
    const conn = () => screen.getByTestId('conn').textContent;
    await waitFor(() => conn() === 'open' && texts(list()).join() === 'alice (you),bob', 5000, 'live roster');
    expect(list().hasAttribute('data-stale')).toBe(false);
    expect(list().hasAttribute('aria-busy')).toBe(false);

    offline = true;
    for (const ws of sockets) ws.terminate();
    await waitFor(() => conn() === 'reconnecting', 5000, 'reconnecting');
    expect(list().hasAttribute('data-stale')).toBe(true);
    expect(list().getAttribute('aria-busy')).toBe('true');
    await sleep(500); // a few refused attempts
    expect(conn()).toBe('reconnecting');
    expect(texts(list())).toEqual(['alice (you)', 'bob']); // the last roster, marked as such

    offline = false;
    await waitFor(() => conn() === 'open', 5000, 'open again');
    await waitFor(() => !list().hasAttribute('data-stale'), 5000, 'fresh again');
    expect(list().hasAttribute('aria-busy')).toBe(false);
    await waitFor(() => texts(list()).join() === 'alice (you),bob', 5000, 'roster after the rejoin');
  });

  it('styles.css styles the stale list and the device count', () => {
    const css = readFileSync(join(__dirname, '../../src/components/styles.css'), 'utf8');
    expect(css).toMatch(/\.rss-presence\[data-stale\][^{]*\{[^}]+\}/);
    expect(css).toMatch(/\.rss-presence__devices[^{]*\{[^}]+\}/);
  });
});
