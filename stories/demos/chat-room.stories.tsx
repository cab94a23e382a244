import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { PresenceList, TypingIndicator, useChannel, useMyState, useTyping } from 'react-signal-service';
import { Avatar, DemoFrame, identityOf, nameOf, UserPane, USERS } from '../support/user-pane.js';

interface ChatMessage {
  text: string;
  /** Sender's clock, to merge my own messages (a publish is not echoed to its sender) with the others'. */
  at: number;
}
interface Profile {
  name: string;
  color: string;
}

const CHANNEL = 'demo-chat';

function ChatRoom({ identity, channel }: { identity: string; channel: string }) {
  const { messages, publish, status } = useChannel<ChatMessage, Profile>(channel);
  const [, setProfile] = useMyState<Profile>(channel);
  const { notifyTyping, stopTyping } = useTyping(channel);
  const [mine, setMine] = useState<(ChatMessage & { from: string })[]>([]);
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLOListElement>(null);

  useEffect(() => setProfile({ name: nameOf(identity), color: USERS[identity]?.color ?? '#4f46e5' }), [identity, setProfile]);

  const all = useMemo(
    () => [...messages.map((m) => ({ ...m, mine: false })), ...mine.map((m) => ({ ...m, mine: true }))].sort((a, b) => a.at - b.at),
    [messages, mine],
  );
  useEffect(() => {
    logRef.current?.scrollTo({ top: logRef.current.scrollHeight });
  }, [all.length]);

  const send = (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text) return;
    const msg = { text, at: Date.now() };
    if (publish(msg)) {
      setMine((m) => [...m, { ...msg, from: identity }]);
      setDraft('');
      stopTyping();
    }
  };

  return (
    <>
      <div className="presence-box">
        <p className="section-label">In the room</p>
        <PresenceList<Profile>
          channel={channel}
          label={`People in the chat room (seen by ${nameOf(identity)})`}
          renderItem={(item) => (
            <span className="presence-chip">
              <Avatar identity={item.identity} small />
              {item.name}
              {item.isMe ? <span className="rss-presence__me">(you)</span> : null}
            </span>
          )}
        />
      </div>
      <ol className="chat-log" ref={logRef} aria-label={`Messages seen by ${nameOf(identity)}`}>
        {all.length === 0 ? <li className="chat-empty">No messages yet. Say hello!</li> : null}
        {all.map((m, i) => {
          const who = m.mine ? identity : identityOf(m.from);
          return (
            <li key={`${m.from}-${m.at}-${i}`} className={m.mine ? 'chat-msg mine' : 'chat-msg'}>
              <Avatar identity={who} small />
              <span className="chat-bubble" style={m.mine ? undefined : { ['--user-color' as string]: USERS[who]?.color }}>
                <span className="chat-author">{m.mine ? 'You' : nameOf(who)}</span>
                {m.text}
              </span>
            </li>
          );
        })}
      </ol>
      <TypingIndicator channel={channel} className="typing-slot" />
      <form className="chat-form" onSubmit={send}>
        <input
          className="input"
          value={draft}
          aria-label={`Message as ${nameOf(identity)}`}
          placeholder={status === 'joined' ? `Message as ${nameOf(identity)}…` : 'Joining…'}
          onChange={(e) => {
            setDraft(e.target.value);
            if (e.target.value) notifyTyping();
            else stopTyping();
          }}
        />
        <button className="btn primary" type="submit" disabled={!draft.trim()}>
          Send
        </button>
      </form>
    </>
  );
}

interface ChatDemoProps {
  /** Who is in the room (2 to 4 users, each on their own connection). */
  users: string[];
  /** The channel they share. */
  channel: string;
}

/**
 * A chat room: `useChannel` for the messages, `useTyping` + `<TypingIndicator>` for "Alice is typing…",
 * `<PresenceList>` for who is here. Every pane is its own `SignalProvider`, i.e. its own connection.
 */
function ChatRoomDemo({ users, channel }: ChatDemoProps) {
  const cast = users.slice(0, 4);
  return (
    <DemoFrame
      title="Chat room"
      count={cast.length}
      lede={
        <>
          Type in one pane: the others see <em>“{nameOf(cast[0] ?? 'alice')} is typing…”</em> at once, and the message when it is sent.
          Each pane is a separate user with their own connection.
        </>
      }
    >
      {cast.map((id) => (
        <UserPane key={id} identity={id} device="web">
          <ChatRoom identity={id} channel={channel} />
        </UserPane>
      ))}
    </DemoFrame>
  );
}

const meta = {
  title: 'Demos/Chat room',
  component: ChatRoomDemo,
  tags: ['!autodocs'],
  args: { users: ['alice', 'bob', 'carol'], channel: CHANNEL },
  argTypes: {
    users: { control: 'check', options: Object.keys(USERS).slice(0, 4), description: 'Who is in the room (2 to 4 users, each on their own connection)' },
    channel: { control: 'text', description: 'The channel they share' },
  },
} satisfies Meta<typeof ChatRoomDemo>;
export default meta;

export const ThreeUsers: StoryObj<typeof meta> = {};
export const TwoUsers: StoryObj<typeof meta> = { args: { users: ['alice', 'bob'] } };
