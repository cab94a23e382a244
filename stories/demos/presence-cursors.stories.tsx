import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useRef, type PointerEvent as ReactPointerEvent } from 'react';
import { PresenceList, useMyState, useParticipants, type ParticipantView } from 'react-signal-service';
import { Avatar, DemoFrame, nameOf, UserPane, USERS } from '../support/user-pane.js';

/** What each user shares in the channel: who they are and where their cursor is (fractions of the board). */
interface CursorState {
  name: string;
  color: string;
  cursor: { x: number; y: number } | null;
}

const CHANNEL = 'demo-cursors';

function Cursor({ p }: { p: ParticipantView<CursorState> }) {
  const c = p.state?.cursor;
  if (!c) return null;
  const color = p.state?.color ?? '#4f46e5';
  return (
    <div
      className="cursor"
      data-user={p.identity}
      data-x={c.x.toFixed(3)}
      data-y={c.y.toFixed(3)}
      aria-hidden="true"
      style={{ left: `${c.x * 100}%`, top: `${c.y * 100}%`, ['--user-color' as string]: color }}
    >
      <svg width="18" height="20" viewBox="0 0 18 20">
        <path d="M1 1 L1 16 L5 12 L8 19 L11 18 L8 11 L14 11 Z" fill={color} stroke="#fff" strokeWidth="1.5" strokeLinejoin="round" />
      </svg>
      <span className="cursor-label">{p.state?.name ?? p.identity}</span>
    </div>
  );
}

function Board({ identity, channel, throttle }: { identity: string; channel: string; throttle: number }) {
  const [me, setMe] = useMyState<CursorState>(channel, { throttle });
  const others = useParticipants<CursorState>(channel);
  const area = useRef<HTMLDivElement>(null);
  const profile = { name: nameOf(identity), color: USERS[identity]?.color ?? '#4f46e5' };

  useEffect(() => setMe({ ...profile, cursor: null }), [identity]); // eslint-disable-line react-hooks/exhaustive-deps

  const move = (e: ReactPointerEvent<HTMLDivElement>) => {
    const r = area.current!.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    const y = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
    setMe({ ...profile, cursor: { x, y } });
  };
  const inside = others.filter((p) => p.state?.cursor).length;

  return (
    <>
      <div className="presence-box">
        <p className="section-label">Online</p>
        <PresenceList<CursorState>
          channel={channel}
          label={`Who is online (seen by ${nameOf(identity)})`}
          renderItem={(item) => (
            <span className="presence-chip">
              <Avatar identity={item.identity} small />
              {item.name}
              {item.isMe ? <span className="rss-presence__me">(you)</span> : null}
              {item.state?.cursor ? <span className="rss-presence__me">· on the board</span> : null}
            </span>
          )}
        />
      </div>
      <div
        ref={area}
        className="cursor-area"
        data-testid="board"
        onPointerMove={move}
        onPointerLeave={() => setMe({ ...profile, cursor: null })}
        role="img"
        aria-label={`Shared board seen by ${nameOf(identity)}: ${inside} other cursor${inside === 1 ? '' : 's'} on it`}
      >
        {others.map((p) => (
          <Cursor key={p.id} p={p} />
        ))}
        <span className="cursor-hint">
          {me?.cursor ? `you: ${Math.round(me.cursor.x * 100)}%, ${Math.round(me.cursor.y * 100)}%` : 'Move your mouse here'}
        </span>
      </div>
    </>
  );
}

interface CursorsDemoProps {
  /** Who is on the board (2 to 4 users). */
  users: string[];
  /** Outgoing state updates at most once per this many ms (`useMyState` `throttle`). */
  throttle: number;
  channel: string;
}

/**
 * Presence and live cursors: `<PresenceList>` shows who is online; each user's cursor travels in their
 * participant state (`useMyState(channel, { throttle })`), and `useParticipants` draws the others' cursors.
 */
function PresenceCursorsDemo({ users, throttle, channel }: CursorsDemoProps) {
  const cast = users.slice(0, 4);
  return (
    <DemoFrame
      title="Presence and cursors"
      count={cast.length}
      lede={
        <>
          Move the mouse over one board: that user's cursor moves on every other board. Cursors travel in participant state
          (last writer wins), throttled to one update per {throttle} ms.
        </>
      }
    >
      {cast.map((id) => (
        <UserPane key={id} identity={id} device="web">
          <Board identity={id} channel={channel} throttle={throttle} />
        </UserPane>
      ))}
    </DemoFrame>
  );
}

const meta = {
  title: 'Demos/Presence and cursors',
  component: PresenceCursorsDemo,
  tags: ['!autodocs'],
  args: { users: ['alice', 'bob', 'carol'], throttle: 50, channel: CHANNEL },
  argTypes: {
    users: { control: 'check', options: Object.keys(USERS).slice(0, 4), description: 'Who is on the board (2 to 4 users)' },
    throttle: { control: { type: 'range', min: 0, max: 500, step: 10 }, description: 'useMyState throttle: at most one cursor update per this many ms' },
    channel: { control: 'text', description: 'The channel they share' },
  },
} satisfies Meta<typeof PresenceCursorsDemo>;
export default meta;

export const ThreeUsers: StoryObj<typeof meta> = {};
