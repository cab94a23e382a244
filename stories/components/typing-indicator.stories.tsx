import type { Meta, StoryObj } from '@storybook/react-vite';
import { TypingIndicator } from 'react-signal-service';
import { Bots, Stage } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { UserPane } from '../support/user-pane.js';

const CAST = ['alice', 'bob', 'carol', 'erin', 'frank'];

type Args = React.ComponentProps<typeof TypingIndicator> & {
  /** How many other users type (story control). */
  typists: number;
};

const meta = {
  title: 'Components/TypingIndicator',
  component: TypingIndicator,
  parameters: {
    docs: {
      description: {
        component:
          'Shows who is typing in a channel: “Alice is typing…”, “Alice and Bob are typing…”, “Alice, Bob and 3 others are typing…”. ' +
          'A polite live region (`aria-live="polite"`); renders no text when nobody types. Unstyled apart from the class `rss-typing` ' +
          '(optional CSS: `react-signal-service/styles.css`). Typists are fed by `useTyping` in other users\' apps; in these stories, ' +
          'invisible users on their own connections keep typing.',
      },
    },
  },
  args: { channel: 'room', typists: 1 },
  argTypes: {
    typists: { control: { type: 'range', min: 0, max: 5, step: 1 }, description: 'Other users typing (story only)' },
    channel: { control: false },
    format: { control: false },
    getName: { control: false },
  },
  render: ({ typists, ...props }, ctx) => {
    const channel = useStoryChannel(ctx.id);
    return (
      <Stage title="TypingIndicator" lede={<>Dave's view of a channel where {typists === 1 ? '1 other user types' : `${typists} other users type`}.</>}>
        <Bots channel={channel} bots={CAST.slice(0, typists).map((identity) => ({ identity, typing: true }))} />
        <div className="demo-panes" data-count="2">
          <UserPane identity="dave" device="web">
            <p className="code-label">&lt;TypingIndicator channel=… /&gt;</p>
            <TypingIndicator {...props} channel={channel} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<Args>;
export default meta;
type Story = StoryObj<typeof meta>;

export const OneTypist: Story = {};
export const TwoTypists: Story = { args: { typists: 2 } };
export const ManyTypists: Story = { args: { typists: 5 } };
export const Nobody: Story = { args: { typists: 0 } };
/** `format` turns the names into any text, e.g. another language. */
export const CustomFormat: Story = {
  args: {
    typists: 2,
    format: (names: string[]) => (names.length === 1 ? `${names[0]} écrit…` : `${names.join(' et ')} écrivent…`),
  },
};
