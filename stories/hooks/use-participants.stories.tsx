import type { Meta, StoryObj } from '@storybook/react-vite';
import { useParticipants } from 'react-signal-service';
import { Bots, Stage } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { Avatar, UserPane } from '../support/user-pane.js';

const CAST = ['alice', 'bob', 'carol', 'erin', 'frank'];

/** Props of the example component. */
interface ParticipantsProps {
  /** How many other users are in the channel (story control). */
  others: number;
}

function Participants({ channel }: { channel: string }) {
  const people = useParticipants<{ name?: string; color?: string }>(channel);
  return (
    <>
      <p className="section-label">useParticipants(channel): {people.length}</p>
      <ul className="event-log" aria-label="Participants">
        {people.length === 0 ? <li>nobody else here</li> : null}
        {people.map((p) => (
          <li key={p.id} className="row">
            <Avatar identity={p.identity} small /> <strong>{p.state?.name ?? p.identity}</strong> <small>{p.id}</small>
          </li>
        ))}
      </ul>
      <pre className="kv">{`const people = useParticipants(channel);            // me excluded
const ids = useParticipants(channel, (ps) => ps.map((p) => p.id)); // membership only`}</pre>
    </>
  );
}

const meta = {
  title: 'Hooks/useParticipants',
  parameters: {
    docs: {
      description: {
        component:
          '`useParticipants(name, selector?, isEqual?)` returns the other participants of a channel (me excluded) as immutable views ' +
          '`{ id, identity, device, state, participant }` in join order. The array keeps its identity until membership or someone\'s ' +
          'state changes; with a selector the component re-renders only when the selection changes.',
      },
    },
  },
  args: { others: 3 },
  argTypes: { others: { control: { type: 'range', min: 0, max: 5, step: 1 }, description: 'Other users in the channel (story only)' } },
  render: ({ others }, ctx) => {
    const channel = useStoryChannel(ctx.id);
    return (
      <Stage title="useParticipants">
        <Bots channel={channel} bots={CAST.slice(0, others).map((identity) => ({ identity }))} />
        <div className="demo-panes" data-count="2">
          <UserPane identity="dave" device="web">
            <Participants channel={channel} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<ParticipantsProps>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
