// @vitest-environment jsdom
import { StrictMode, useEffect, useState } from 'react';
import { act, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { reactServers } from './fixture.js';
import { recordingWebSocket } from './helpers.js';
import {
  PresenceList,
  useChannel,
  useDirectMessages,
  useMyState,
  useParticipants,
  useSignal,
  useTyping,
  type ParticipantView,
  type SignalMessage,
} from '../../src/index.js';
import { sleep, waitFor } from '../helpers/wait.js';

const startServer = reactServers();
type Text = { text: string };

describe('useDirectMessages', () => {
  it('sends and receives between two providers; bounded buffer, limit and filter', async () => {
    const srv = await startServer();
    const [AsAlice, AsBob] = await Promise.all([srv.provider('alice'), srv.provider('bob')]);
    let send!: (p: Text & { to: string }) => void;
    function Alice() {
      send = useDirectMessages<Text>().send;
      return null;
    }
    const odd = (m: SignalMessage<Text>) => Number(m.text) % 2 === 1;
    function Bob() {
      const all = useDirectMessages<Text>();
      const last2 = useDirectMessages<Text>({ limit: 2 });
      const odds = useDirectMessages<Text>({ filter: odd });
      const f = (l: readonly SignalMessage<Text>[]) => l.map((m) => m.text).join(',');
      return <p data-testid="bob">{`${f(all.messages)}/${f(last2.messages)}/${f(odds.messages)}`}</p>;
    }
    function Conn() {
      const s = useSignal();
      return <i data-testid="ready">{s ? 'y' : 'n'}</i>;
    }
    render(
      <>
        <AsAlice>
          <Alice />
          <Conn />
        </AsAlice>
        <AsBob limits={{ directMessages: 4 }}>
          <Bob />
        </AsBob>
      </>,
    );
    await waitFor(() => screen.getByTestId('ready').textContent === 'y', 3000, 'client');
    await waitFor(() => srv.server.stats().connections === 2, 3000, 'both connected');
    for (let i = 1; i <= 6; i++) act(() => send({ to: 'bob', text: String(i) }));
    await waitFor(() => screen.getByTestId('bob').textContent === '3,4,5,6/5,6/3,5', 3000, 'bounded + limit + filter');
    const m = screen.getByTestId('bob').textContent;
    expect(m).toBe('3,4,5,6/5,6/3,5');
  });
});

describe('useChannel', () => {
  it('bounded messages, onMessage, in-channel direct messages; typing frames stay out', async () => {
    const srv = await startServer();
    const alice = await srv.connect('alice', 'web');
    const ach = alice.join('room', { presence: true });
    await ach.ready;
    const AsBob = await srv.provider('bob');
    const heard: string[] = [];
    function Bob() {
      const { messages, status } = useChannel<Text>('room', { onMessage: (m) => heard.push(m.text) });
      const { typing } = useTyping('room');
      return (
        <p data-testid="bob">
          {status}:{messages.map((m) => `${m.text}${m.to ? '>' : ''}`).join(',')}:{typing.length}
        </p>
      );
    }
    render(
      <StrictMode>
        <AsBob limits={{ channelMessages: 3 }}>
          <Bob />
        </AsBob>
      </StrictMode>,
    );
    await waitFor(() => ach.participants.size === 1, 5000, 'bob joined');
    await waitFor(() => screen.getByTestId('bob').textContent === 'joined::0', 3000, 'bob sees joined');
    ach.publish({ $typing: 5000 });
    await waitFor(() => screen.getByTestId('bob').textContent === 'joined::1', 3000, 'typing');
    for (const t of ['a', 'b', 'c', 'd']) ach.publish({ text: t });
    [...ach.participants.values()][0]!.send({ text: 'dm' });
    await waitFor(() => screen.getByTestId('bob').textContent === 'joined:c,d,dm>:0', 3000, 'bounded to 3, typing ended by message');
    expect(heard).toEqual(['a', 'b', 'c', 'd', 'dm']); // once each, even under StrictMode
  });

  it('publish reaches the other provider; a presence hook upgrades a channel joined without presence', async () => {
    const srv = await startServer();
    const [AsAlice, AsBob] = await Promise.all([srv.provider('alice'), srv.provider('bob')]);
    let publish!: (m: Text) => boolean;
    let setShowList!: (b: boolean) => void;
    function Alice() {
      const ch = useChannel<Text>('room', { presence: false });
      publish = ch.publish;
      const [showList, set] = useState(false);
      setShowList = set;
      return (
        <>
          <p data-testid="alice">{ch.status}</p>
          {showList ? <PresenceList channel="room" /> : null}
        </>
      );
    }
    function Bob() {
      const { messages } = useChannel<Text>('room');
      const who = useParticipants('room', (ps) => ps.map((p) => p.identity).join(','));
      return <p data-testid="bob">{`${who}:${messages.map((m) => m.text).join(',')}`}</p>;
    }
    render(
      <>
        <AsAlice>
          <Alice />
        </AsAlice>
        <AsBob>
          <Bob />
        </AsBob>
      </>,
    );
    await waitFor(() => screen.getByTestId('alice').textContent === 'joined', 3000, 'alice joined');
    await sleep(200);
    expect(screen.getByTestId('bob').textContent).toBe(':'); // alice is there without presence
    act(() => void publish({ text: 'hi' }));
    await waitFor(() => screen.getByTestId('bob').textContent === ':hi', 3000, 'message arrives');
    act(() => setShowList(true));
    await waitFor(() => screen.getByTestId('bob').textContent === 'alice:hi', 3000, 'alice now announced');
    await waitFor(() => screen.getByTestId('alice').textContent === 'joined', 3000, 'alice rejoined');
  });
});

describe('useParticipants', () => {
  it('keeps the array identity until membership or state changes', async () => {
    const srv = await startServer();
    const bob = await srv.connect('bob', 'x');
    const bch = bob.join('room', { presence: true });
    await bch.ready;
    const AsAlice = await srv.provider('alice');
    const arrays: (readonly ParticipantView[])[] = [];
    function List() {
      const ps = useParticipants('room');
      const { messages } = useChannel<Text>('room');
      if (arrays[arrays.length - 1] !== ps) arrays.push(ps);
      return <p data-testid="list">{`${ps.map((p) => `${p.identity}=${JSON.stringify(p.state ?? null)}`).join(',')}:${messages.length}`}</p>;
    }
    render(
      <AsAlice>
        <List />
      </AsAlice>,
    );
    await waitFor(() => screen.getByTestId('list').textContent === 'bob=null:0', 3000, 'bob listed');
    await waitFor(() => bch.participants.size === 1, 3000, 'bob sees alice');
    const n = arrays.length;
    bch.publish({ text: 'x' });
    await waitFor(() => screen.getByTestId('list').textContent === 'bob=null:1', 3000, 'message');
    expect(arrays.length).toBe(n); // a message re-rendered the component but the array is the same
    bch.me.updateState({ mood: 'ok' });
    await waitFor(() => screen.getByTestId('list').textContent === 'bob={"mood":"ok"}:1', 3000, 'state');
    expect(arrays.length).toBe(n + 1);
    bch.leave();
    await waitFor(() => screen.getByTestId('list').textContent === ':1', 3000, 'bob left');
    expect(arrays.length).toBe(n + 2);
  });
});

describe('useMyState', () => {
  it('throttles outgoing updates (60 Hz in, at most ~20 Hz out) and the last value always arrives', async () => {
    const srv = await startServer();
    const bob = await srv.connect('bob', 'x');
    const bch = bob.join('room', { presence: true });
    await bch.ready;
    const rec = recordingWebSocket();
    const AsAlice = await srv.provider('alice');
    let set!: (s: { x: number }) => void;
    function Cursor() {
      const [mine, setMine] = useMyState<{ x: number }>('room', { throttle: 50 });
      useEffect(() => {
        set = setMine;
      }, [setMine]);
      return <p data-testid="mine">{mine?.x ?? '-'}</p>;
    }
    render(
      <AsAlice options={{ WebSocket: rec.WS }}>
        <Cursor />
      </AsAlice>,
    );
    await waitFor(() => bch.participants.size === 1, 5000, 'alice joined');
    await sleep(100);
    const before = rec.sent('"state"');
    const t0 = Date.now();
    for (let x = 1; x <= 30; x++) {
      act(() => set({ x }));
      expect(screen.getByTestId('mine').textContent).toBe(String(x)); // local state is immediate
      await sleep(16);
    }
    const elapsed = Date.now() - t0;
    await waitFor(() => (([...bch.participants.values()][0]?.state as { x?: number } | undefined)?.x === 30), 3000, 'last value');
    const frames = rec.sent('"state"') - before;
    expect(frames).toBeGreaterThanOrEqual(2);
    expect(frames).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    expect(frames).toBeLessThan(30);
  });
});
