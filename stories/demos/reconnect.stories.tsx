import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useRef, useState } from 'react';
import { PresenceList, useConnectionState, useMyState, useParticipants } from 'react-signal-service';
import { useDemoServer } from '../support/demo-server.js';
import { Avatar, DemoFrame, identityOf, nameOf, UserPane, USERS } from '../support/user-pane.js';

/** Shared state: restored by the client after a reconnect, and by the server to newcomers. */
interface Profile {
  name: string;
  color: string;
  likes: number;
}

const CHANNEL = 'demo-reconnect';
const selectIds = (ps: readonly { id: string }[]): string[] => ps.map((p) => p.id);
const clock = (): string => new Date().toLocaleTimeString([], { hour12: false });

/** A log of who joined and left, as this pane saw it. */
function useMembershipLog(channel: string): { at: string; kind: 'join' | 'leave'; who: string }[] {
  const ids = useParticipants(channel, selectIds);
  const prev = useRef<string[] | null>(null);
  const [log, setLog] = useState<{ at: string; kind: 'join' | 'leave'; who: string }[]>([]);
  useEffect(() => {
    const before = prev.current;
    prev.current = ids;
    if (before === null) return;
    const added = ids.filter((id) => !before.includes(id));
    const removed = before.filter((id) => !ids.includes(id));
    if (added.length + removed.length === 0) return;
    setLog((l) => [
      ...l,
      ...removed.map((id) => ({ at: clock(), kind: 'leave' as const, who: identityOf(id) })),
      ...added.map((id) => ({ at: clock(), kind: 'join' as const, who: identityOf(id) })),
    ].slice(-8));
  }, [ids]);
  return log;
}

function ReconnectPane({ identity, channel }: { identity: string; channel: string }) {
  const server = useDemoServer();
  const state = useConnectionState();
  const [me, setMe] = useMyState<Profile>(channel);
  const [online, setOnline] = useState(true);
  const [drops, setDrops] = useState(0);
  const [reconnects, setReconnects] = useState(0);
  useEffect(() => {
    if (state === 'reconnecting') setReconnects((n) => n + 1);
  }, [state]);
  const log = useMembershipLog(channel);

  useEffect(() => {
    setMe((s) => s ?? { name: nameOf(identity), color: USERS[identity]?.color ?? '#4f46e5', likes: 0 });
  }, [identity, setMe]);

  return (
    <>
      <div className="row">
        <button
          className="btn danger"
          disabled={!online || state !== 'open'}
          onClick={() => {
            server.drop(identity);
            setDrops((n) => n + 1);
          }}
        >
          Drop connection
        </button>
        <button
          className="btn"
          aria-pressed={!online}
          onClick={() => {
            server.setOnline(identity, !online);
            setOnline(!online);
          }}
        >
          {online ? 'Go offline' : 'Go online'}
        </button>
      </div>

      <div className="state-card">
        <p className="section-label">My shared state</p>
        <dl>
          <dt>likes</dt>
          <dd data-testid="my-likes">{me?.likes ?? 0}</dd>
          <dt>drops</dt>
          <dd>{drops}</dd>
          <dt>reconnects</dt>
          <dd data-testid="reconnects">{reconnects}</dd>
        </dl>
        <div className="row" style={{ marginTop: 8 }}>
          <button className="btn primary" onClick={() => setMe((s) => ({ ...(s ?? { name: nameOf(identity), color: '#4f46e5', likes: 0 }), likes: (s?.likes ?? 0) + 1 }))}>
            Like +1
          </button>
        </div>
      </div>

      <div className="presence-box">
        <p className="section-label">
          In the room
          {state === 'open' ? null : <span className="stale-note"> · last known, {state}…</span>}
        </p>
        <PresenceList<Profile>
          channel={channel}
          label={`People in the room (seen by ${nameOf(identity)})`}
          renderItem={(item) => (
            <span className="presence-chip" data-identity={item.identity}>
              <Avatar identity={item.identity} small />
              {item.name}
              {item.isMe ? <span className="rss-presence__me">(you)</span> : null}
              <span className="likes" data-testid={`likes-${item.identity}`}>
                ♥ {item.state?.likes ?? 0}
              </span>
            </span>
          )}
        />
      </div>

      <p className="section-label">Seen here</p>
      <ol className="event-log" aria-label={`Joins and leaves seen by ${nameOf(identity)}`}>
        {log.length === 0 ? <li>nothing yet</li> : null}
        {log.map((e, i) => (
          <li key={i} data-kind={e.kind}>
            {e.at} {nameOf(e.who)} {e.kind === 'join' ? 'joined' : 'left'}
          </li>
        ))}
      </ol>
    </>
  );
}

interface ReconnectDemoProps {
  /** Who is in the room (2 to 4 users). */
  users: string[];
  channel: string;
}

/**
 * Reconnect: "Drop connection" cuts one user's connection like a network failure. The server notices, the
 * others see the user leave; the client reconnects with backoff (1 s doubling, full jitter), joins its channels
 * again and restores its state, and the others see the user come back with the same state. While a user's own
 * connection is down, their `<PresenceList>` keeps the last roster, marked stale (`data-stale`, `aria-busy`).
 */
function ReconnectDemo({ users, channel }: ReconnectDemoProps) {
  const cast = users.slice(0, 4);
  return (
    <DemoFrame
      title="Reconnect"
      count={cast.length}
      lede={
        <>
          Give someone a few likes, then drop their connection: the others see them leave and come back, likes restored. “Go offline”
          keeps them out (the client keeps retrying with backoff) until they are back online. Meanwhile their own list shows the last
          people it knew, marked stale (<code>data-stale</code>, <code>aria-busy</code>: dashed here).
        </>
      }
    >
      {cast.map((id) => (
        <UserPane key={id} identity={id} device="web">
          <ReconnectPane identity={id} channel={channel} />
        </UserPane>
      ))}
    </DemoFrame>
  );
}

const meta = {
  title: 'Demos/Reconnect',
  component: ReconnectDemo,
  tags: ['!autodocs'],
  args: { users: ['alice', 'bob', 'carol'], channel: CHANNEL },
  argTypes: {
    users: { control: 'check', options: Object.keys(USERS).slice(0, 4), description: 'Who is in the room (2 to 4 users)' },
    channel: { control: 'text', description: 'The channel they share' },
  },
} satisfies Meta<typeof ReconnectDemo>;
export default meta;

export const ThreeUsers: StoryObj<typeof meta> = {};
