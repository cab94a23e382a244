import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect } from 'react';
import { PresenceList, useMyState } from 'react-signal-service';
import { Bots, Stage, type BotSpec } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { Avatar, UserPane } from '../support/user-pane.js';

const CAST = ['alice', 'bob', 'carol', 'erin', 'frank', 'grace'];

/** Dave shares his display name, as the others do. */
function MyName({ channel }: { channel: string }) {
  const [, setMe] = useMyState(channel);
  useEffect(() => setMe({ name: 'Dave' }), [setMe]);
  return null;
}

type Args = React.ComponentProps<typeof PresenceList> & {
  /** How many other users are in the channel (story control). */
  others: number;
  /** How many of them are also there from a second device (story control). */
  twoDevices: number;
};

const meta = {
  title: 'Components/PresenceList',
  component: PresenceList,
  parameters: {
    docs: {
      description: {
        component:
          'Who is in a channel: a `role="list"` of participants, me first and marked “(you)”, names from each participant\'s ' +
          '`state.name` (else the identity), `max` with a “+N” entry, `renderItem` for custom rows. One entry per user however ' +
          'many tabs or devices they use (“Alice (2 devices)”), or one per connection with `groupBy="endpoint"`. While my own ' +
          'connection is down the list keeps the last roster it knew, marked `data-stale` and `aria-busy`. The list re-renders ' +
          'on membership changes only; each row re-renders on its own participant\'s state. Class names: `rss-presence`, ' +
          '`rss-presence__item`, `rss-presence__devices`, `rss-presence__more`.',
      },
    },
  },
  args: { channel: 'room', others: 3, twoDevices: 0, showMe: true },
  argTypes: {
    others: { control: { type: 'range', min: 0, max: 6, step: 1 }, description: 'Other users in the channel (story only)' },
    twoDevices: {
      control: { type: 'range', min: 0, max: 6, step: 1 },
      description: 'How many of them are also there from a second device (story only)',
    },
    max: { control: { type: 'number', min: 0, max: 10 } },
    channel: { control: false },
    groupBy: {
      control: 'inline-radio',
      options: ['identity', 'endpoint'],
      table: { type: { summary: "'identity' | 'endpoint'" }, defaultValue: { summary: "'identity'" } },
    },
    label: { table: { defaultValue: { summary: '`Participants in ${channel}`' } } },
    renderItem: { control: false, table: { defaultValue: { summary: 'name, “(you)”, “(N devices)”' } } },
    getName: {
      control: false,
      table: { defaultValue: { summary: 'participantName', detail: 'state.name, else state.displayName, else the identity' } },
    },
  },
  render: ({ others, twoDevices, ...props }, ctx) => {
    const channel = useStoryChannel(ctx.id);
    const cast = CAST.slice(0, others);
    const bots: BotSpec[] = [
      ...cast.map((identity) => ({ identity })),
      ...cast.slice(0, twoDevices).map((identity) => ({ identity, device: 'phone' })),
    ];
    return (
      <Stage title="PresenceList" lede={<>Dave's view of a channel with {others} other user{others === 1 ? '' : 's'}.</>}>
        <Bots channel={channel} bots={bots} />
        <div className="demo-panes" data-count="2">
          <UserPane identity="dave" device="web">
            <MyName channel={channel} />
            <PresenceList {...props} channel={channel} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<Args>;
export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = {};
/** `max` caps the entries (me included) and adds “+N”. */
export const WithMax: Story = { args: { others: 6, max: 4 } };
/** `renderItem` renders each row's content; the `li` and its class stay. */
export const CustomRows: Story = {
  args: {
    others: 4,
    renderItem: (item) => (
      <span className="presence-chip">
        <Avatar identity={item.identity} small />
        {item.name}
        {item.isMe ? <span className="rss-presence__me">(you)</span> : null}
      </span>
    ),
  },
};
export const WithoutMe: Story = { args: { showMe: false } };
/** Alice and Bob are also there from their phones: one entry each, with the device count (`groupBy="endpoint"` lists every connection). */
export const SeveralDevices: Story = { args: { others: 3, twoDevices: 2 } };
