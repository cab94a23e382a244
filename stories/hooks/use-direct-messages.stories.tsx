import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState } from 'react';
import { useDirectMessages } from 'react-signal-service';
import { Stage } from '../support/stage.js';
import { nameOf, UserPane } from '../support/user-pane.js';

interface Note {
  text: string;
}

/** Props of the example component. */
interface InboxProps {
  /** Show at most this many of the last messages (`useDirectMessages({ limit })`). */
  limit: number;
  /** Who to send to: an identity (every device), `identity/device`, or a full address. */
  to: string;
}

/** Send direct messages and list the last `limit` received. */
function Inbox({ identity, limit, to }: InboxProps & { identity: string }) {
  const { messages, send } = useDirectMessages<Note>({ limit });
  const [n, setN] = useState(1);
  return (
    <>
      <div className="row">
        <button
          className="btn primary"
          onClick={() => {
            send({ to, text: `Note #${n} from ${nameOf(identity)}` });
            setN(n + 1);
          }}
        >
          Send note #{n} to {to}
        </button>
      </div>
      <p className="section-label">Last {limit} received</p>
      <ul className="event-log" aria-label={`${nameOf(identity)}'s inbox`}>
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
  title: 'Hooks/useDirectMessages',
  parameters: {
    docs: {
      description: {
        component:
          '`useDirectMessages({ limit?, filter? })` returns `{ messages, send }`: the last direct messages received by this connection ' +
          '(bounded, oldest first; the provider keeps `limits.directMessages`, default 100) and `send({ to, ...payload })`. ' +
          '`to` may be an identity (all its devices), `identity/device`, or the exact `identity/device/route` found in `msg.from`. ' +
          'A channel message never re-renders it.',
      },
    },
  },
  args: { limit: 5, to: 'bob' },
  argTypes: {
    limit: { control: { type: 'range', min: 1, max: 20 }, description: 'useDirectMessages({ limit }): how many of the last messages to show' },
    to: { control: 'text', description: "Alice sends to: an identity (every device), 'identity/device', or a full address" },
  },
  render: (args) => (
    <Stage title="useDirectMessages">
      <div className="demo-panes" data-count="2">
        <UserPane identity="alice" device="web">
          <Inbox identity="alice" {...args} />
        </UserPane>
        <UserPane identity="bob" device="web">
          <Inbox identity="bob" limit={args.limit} to="alice" />
        </UserPane>
      </div>
    </Stage>
  ),
} satisfies Meta<InboxProps>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
