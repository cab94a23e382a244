import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState } from 'react';
import { useChannel } from 'react-signal-service';
import { Stage } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { nameOf, UserPane } from '../support/user-pane.js';

interface Post {
  text: string;
}

/** Props of the example component. */
interface ChannelProps {
  /** The channel name (joined while mounted, left when the last user of it unmounts). */
  channel: string;
  /** Announce me to the others (presence). */
  presence: boolean;
  /** Keep at most this many of the last messages. */
  limit: number;
}

function Board({ identity, channel, presence, limit }: ChannelProps & { identity: string }) {
  const { messages, publish, status, error } = useChannel<Post>(channel, { presence, limit });
  const [n, setN] = useState(1);
  return (
    <>
      <div className="row">
        <span className="conn" data-state={status === 'joined' ? 'open' : 'connecting'}>
          status: {status}
        </span>
        {error ? <span role="alert">{error.message}</span> : null}
      </div>
      <button
        className="btn primary"
        onClick={() => {
          publish({ text: `Post #${n} by ${nameOf(identity)}` });
          setN(n + 1);
        }}
      >
        Publish post #{n}
      </button>
      <p className="section-label">Received (a publish is not echoed to its sender)</p>
      <ul className="event-log" aria-label={`Posts seen by ${nameOf(identity)}`}>
        {messages.length === 0 ? <li>none yet</li> : null}
        {messages.map((m, i) => (
          <li key={i}>
            {m.text} <small>from {m.from}</small>
          </li>
        ))}
      </ul>
    </>
  );
}

const meta = {
  title: 'Hooks/useChannel',
  parameters: {
    docs: {
      description: {
        component:
          '`useChannel(name, { presence?, onMessage?, limit? })` joins a channel while mounted (reference counted across components ' +
          'and StrictMode) and returns `{ publish, messages, status, error, channel }`. It re-renders on this channel\'s messages, ' +
          'status and errors only, not on presence or state changes.',
      },
    },
  },
  args: { channel: 'news', presence: true, limit: 10 },
  argTypes: {
    channel: { description: 'Channel name: joined while mounted, left when the last component using it unmounts' },
    presence: { description: 'useChannel(name, { presence }): announce me to the others and learn who is here' },
    limit: { control: { type: 'range', min: 1, max: 50 }, description: 'useChannel(name, { limit }): keep at most this many of the last messages' },
  },
  render: (args, ctx) => {
    const channel = `${useStoryChannel(ctx.id)}-${args.channel}`;
    return (
      <Stage title="useChannel">
        <div className="demo-panes" data-count="2">
          <UserPane identity="alice" device="web">
            <Board identity="alice" {...args} channel={channel} />
          </UserPane>
          <UserPane identity="bob" device="web">
            <Board identity="bob" {...args} channel={channel} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<ChannelProps>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
