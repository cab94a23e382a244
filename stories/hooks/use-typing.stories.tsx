import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState } from 'react';
import { useTyping } from 'react-signal-service';
import { Stage } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { nameOf, UserPane } from '../support/user-pane.js';

/** Props of the story. */
interface Args {
  /** How long (ms) others show me typing after my last typing frame. */
  timeout: number;
}

function Typist({ identity, channel, timeout }: { identity: string; channel: string; timeout: number }) {
  const { typing, notifyTyping, stopTyping } = useTyping(channel, { timeout });
  const [text, setText] = useState('');
  return (
    <>
      <input
        className="input"
        aria-label={`Type as ${nameOf(identity)}`}
        placeholder="Type here…"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value) notifyTyping();
          else stopTyping();
        }}
      />
      <p className="section-label">typing (others)</p>
      <pre className="kv" data-testid="typing">{JSON.stringify(typing.map((p) => p.identity))}</pre>
    </>
  );
}

const meta = {
  title: 'Hooks/useTyping',
  parameters: {
    docs: {
      description: {
        component:
          '`useTyping(name, { timeout?, interval? })` returns `{ typing, notifyTyping, stopTyping }`. Call `notifyTyping()` on every ' +
          'keystroke: it sends at most one small frame per `interval` however fast keys come; a typist expires by itself `timeout` ms ' +
          'after their last frame, or at once on `stopTyping()` or when they leave. `<TypingIndicator>` is built on it.',
      },
    },
  },
  args: { timeout: 3000 },
  argTypes: { timeout: { control: { type: 'range', min: 1000, max: 10000, step: 500 }, description: 'useTyping(name, { timeout }): how long (ms) the others show me typing after my last typing frame' } },
  render: ({ timeout }, ctx) => {
    const channel = useStoryChannel(ctx.id);
    return (
      <Stage title="useTyping">
        <div className="demo-panes" data-count="2">
          <UserPane identity="alice" device="web">
            <Typist identity="alice" channel={channel} timeout={timeout} />
          </UserPane>
          <UserPane identity="bob" device="web">
            <Typist identity="bob" channel={channel} timeout={timeout} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<Args>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
