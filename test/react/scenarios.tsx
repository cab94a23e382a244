// Re-render measurements against a real server, shared by test/react/rerenders.test.tsx (which asserts on
// them) and bench/rerenders.tsx (which prints them). Needs a DOM (jsdom) and IS_REACT_ACT_ENVIRONMENT.
// React in scope: tsx (bench) compiles files outside tsconfig's include with the classic JSX transform.
import React, { Profiler, useEffect, type ReactNode } from 'react';
import { act, render, screen } from '@testing-library/react';
import { NodeWebSocket, type TestServer } from '../../src/testing/index.js';
import type { Signal } from '../../src/client/index.js';
import {
  PresenceList,
  SignalProvider,
  TypingIndicator,
  useChannel,
  useDirectMessages,
  useParticipantState,
  useParticipants,
  useTyping,
  type PresenceItem,
} from '../../src/index.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { recordingWebSocket } from './helpers.js';

const opts = { WebSocket: NodeWebSocket };

async function settle(ms = 150): Promise<void> {
  await act(async () => {
    await sleep(ms);
  });
}

/** Connect `n` plain clients and join them to `channel` with presence (in parallel). */
async function crowd(srv: TestServer, n: number, channel: string): Promise<Signal[]> {
  const clients = await Promise.all(Array.from({ length: n }, (_, i) => srv.connect(`user${i}`, `d${i}`)));
  await Promise.all(clients.map((c) => c.join(channel, { presence: true }).ready));
  return clients;
}

export interface StateUpdateResult {
  participants: number;
  /** Row components re-rendered by one participant's state update (all rows together). */
  rowRenders: number;
  /** Which rows re-rendered. */
  rowsRendered: string[];
  /** Renders of the list component (selects ids only). */
  listRenders: number;
  /** Row renders of <PresenceList> (counted through renderItem) caused by the same update. */
  presenceListRowRenders: number;
}

/** 100 participants, one state update: how many rows and lists re-render. */
export async function measureStateUpdate(srv: TestServer, n = 100): Promise<StateUpdateResult> {
  const others = await crowd(srv, n, 'big');
  const rows = new Map<string, number>();
  let listRenders = 0;
  let presenceRows = 0;
  const selectIds = (ps: readonly { id: string }[]): string[] => ps.map((p) => p.id);
  function Row({ id }: { id: string }): ReactNode {
    const state = useParticipantState<{ name?: string }>('big', id);
    rows.set(id, (rows.get(id) ?? 0) + 1);
    return <li data-testid={`row-${id}`}>{state?.name ?? id}</li>;
  }
  function List(): ReactNode {
    const ids = useParticipants('big', selectIds);
    listRenders++;
    return (
      <ul data-testid="list" data-count={ids.length}>
        {ids.map((id) => (
          <Row key={id} id={id} />
        ))}
      </ul>
    );
  }
  const renderItem = (item: PresenceItem<{ name?: string }>): ReactNode => {
    presenceRows++;
    return item.name;
  };
  const token = await srv.token('observer', 'web');
  const view = render(
    <SignalProvider token={token} options={opts}>
      <List />
      <PresenceList channel="big" renderItem={renderItem} />
    </SignalProvider>,
  );
  try {
    await waitFor(() => screen.getByTestId('list').getAttribute('data-count') === String(n), 15_000, `${n} participants listed`);
    await settle();
    rows.clear();
    listRenders = 0;
    presenceRows = 0;
    const target = others[Math.floor(n / 2)]!;
    const ch = target.channels.get('big')!;
    act(() => ch.me.updateState({ name: 'Renamed' }));
    const id = ch.me.id!;
    await waitFor(() => screen.getByTestId(`row-${id}`).textContent === 'Renamed', 5000, 'state update shown');
    await settle();
    return {
      participants: n,
      rowRenders: [...rows.values()].reduce((a, b) => a + b, 0),
      rowsRendered: [...rows.keys()],
      listRenders,
      presenceListRowRenders: presenceRows,
    };
  } finally {
    view.unmount();
    for (const c of others) c.dispose();
  }
}

export interface TypingBurstResult {
  /** Commits of the receiver's <TypingIndicator> from the burst until the typist expired. */
  indicatorRenders: number;
  /** Typing frames the sender put on the wire for the burst. */
  framesSent: number;
  /** Most frames the throttle allows for a burst this long (1 + one per full interval). */
  framesAllowed: number;
  /** How long the burst took (ms). */
  burstMs: number;
  shown: string;
}

/** Typing settings of the burst: shown for 2 s after a frame, at most one frame per second. */
const TYPING = { timeout: 2000, interval: 1000 };

/** 50 notifyTyping() calls on one side: how often the other side's TypingIndicator re-renders. */
export async function measureTypingBurst(srv: TestServer, calls = 50): Promise<TypingBurstResult> {
  let notify: (() => void) | null = null;
  function Typist(): ReactNode {
    const { notifyTyping } = useTyping('chat', TYPING);
    useEffect(() => {
      notify = notifyTyping;
    }, [notifyTyping]);
    return null;
  }
  let renders = 0;
  const rec = recordingWebSocket();
  const [ta, tb] = await Promise.all([srv.token('alice', 'web'), srv.token('bob', 'web')]);
  function Who(): ReactNode {
    const ids = useParticipants('chat', (ps) => ps.map((p) => p.identity).join(','));
    return <span data-testid="bob-sees">{ids}</span>;
  }
  const view = render(
    <>
      <SignalProvider token={ta} options={{ WebSocket: rec.WS }}>
        <Typist />
      </SignalProvider>
      <SignalProvider token={tb} options={opts}>
        <Who />
        <Profiler id="typing" onRender={() => renders++}>
          <TypingIndicator channel="chat" />
        </Profiler>
      </SignalProvider>
    </>,
  );
  try {
    await waitFor(() => screen.getByTestId('bob-sees').textContent === 'alice' && notify, 5000, 'bob sees alice');
    await settle(300); // alice's join reply must be in before she may type
    renders = 0;
    const before = rec.sent('"$typing"');
    const t0 = Date.now();
    for (let i = 0; i < calls; i++) {
      act(() => notify!());
      await sleep(2); // keys ~2 ms apart: a fast typist
    }
    const burstMs = Date.now() - t0;
    const frames = rec.sent('"$typing"') - before;
    await waitFor(() => document.querySelector('.rss-typing')?.textContent === 'alice is typing…', 5000, 'typing shown');
    const shown = document.querySelector('.rss-typing')!.textContent ?? '';
    await waitFor(() => document.querySelector('.rss-typing')?.textContent === '', 8000, 'typing expired');
    await settle();
    return { indicatorRenders: renders, framesSent: frames, framesAllowed: 1 + Math.floor(burstMs / TYPING.interval), burstMs, shown };
  } finally {
    view.unmount();
  }
}

export interface CrossTalkResult {
  /** Renders of a channel component (useChannel) caused by one direct message. */
  dmChannelRenders: number;
  /** Renders of the direct-message component caused by that message (should be 1). */
  dmViewRenders: number;
  /** Renders of presence components (PresenceList + TypingIndicator) caused by one channel message. */
  channelMsgPresenceRenders: number;
  /** Renders of the channel component caused by that message (should be 1). */
  channelMsgChannelRenders: number;
}

/** A direct message must not re-render channel components; a channel message must not re-render presence ones. */
export async function measureCrossTalk(srv: TestServer): Promise<CrossTalkResult> {
  const alice = await srv.connect('alice', 'web');
  const ach = alice.join('room', { presence: true });
  await ach.ready;
  ach.me.updateState({ name: 'Alice' });
  const counts = { channel: 0, presence: 0, dm: 0 };
  function ChannelView(): ReactNode {
    const { messages, status } = useChannel<{ text: string }>('room');
    return (
      <p data-testid="channel">
        {status}:{messages.map((m) => m.text).join('|')}
      </p>
    );
  }
  function DmView(): ReactNode {
    const { messages } = useDirectMessages<{ text: string }>();
    return <p data-testid="dm">{messages.map((m) => m.text).join('|')}</p>;
  }
  const token = await srv.token('bob', 'web');
  const view = render(
    <SignalProvider token={token} options={opts}>
      <Profiler id="channel" onRender={() => counts.channel++}>
        <ChannelView />
      </Profiler>
      <Profiler id="presence" onRender={() => counts.presence++}>
        <PresenceList channel="room" />
        <TypingIndicator channel="room" />
      </Profiler>
      <Profiler id="dm" onRender={() => counts.dm++}>
        <DmView />
      </Profiler>
    </SignalProvider>,
  );
  try {
    await waitFor(() => screen.getByTestId('channel').textContent === 'joined:', 5000, 'bob joined');
    await waitFor(() => screen.getByRole('list').textContent?.includes('Alice'), 5000, 'alice listed');
    await waitFor(() => ach.participants.size === 1, 5000, 'alice sees bob');
    await settle();
    counts.channel = counts.presence = counts.dm = 0;
    alice.send({ to: 'bob', text: 'psst' });
    await waitFor(() => screen.getByTestId('dm').textContent === 'psst', 5000, 'dm shown');
    await settle();
    const dmChannelRenders = counts.channel;
    const dmViewRenders = counts.dm;
    counts.channel = counts.presence = counts.dm = 0;
    ach.publish({ text: 'hello room' });
    await waitFor(() => screen.getByTestId('channel').textContent === 'joined:hello room', 5000, 'channel message shown');
    await settle();
    return {
      dmChannelRenders,
      dmViewRenders,
      channelMsgPresenceRenders: counts.presence,
      channelMsgChannelRenders: counts.channel,
    };
  } finally {
    view.unmount();
    alice.dispose();
  }
}
