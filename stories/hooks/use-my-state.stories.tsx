import type { Meta, StoryObj } from '@storybook/react-vite';
import { useMyState, useParticipantState } from 'react-signal-service';
import { Stage } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { UserPane } from '../support/user-pane.js';

interface Slider {
  value: number;
}

/** Props of the story. */
interface Args {
  /** Send at most one update per this many ms (`useMyState(name, { throttle })`); the local value updates at once. */
  throttle: number;
}

function Sender({ channel, throttle }: { channel: string; throttle: number }) {
  const [me, setMe] = useMyState<Slider>(channel, { throttle });
  return (
    <>
      <label className="section-label" htmlFor="my-slider">
        My state (useMyState, throttle {throttle} ms)
      </label>
      <input id="my-slider" type="range" min={0} max={100} value={me?.value ?? 50} onChange={(e) => setMe({ value: Number(e.target.value) })} />
      <pre className="kv">{JSON.stringify(me ?? null)}</pre>
    </>
  );
}

function Receiver({ channel }: { channel: string }) {
  const alice = useParticipantState<Slider>(channel, 'alice');
  return (
    <>
      <p className="section-label">Alice's state, as Bob sees it</p>
      <div aria-label="Alice's value" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={alice?.value ?? 0} style={{ height: 12, background: '#eef0f5', borderRadius: 6 }}>
        <div style={{ width: `${alice?.value ?? 0}%`, height: '100%', background: '#7c3aed', borderRadius: 6, transition: 'width 80ms linear' }} />
      </div>
      <pre className="kv">{JSON.stringify(alice ?? null)}</pre>
    </>
  );
}

const meta = {
  title: 'Hooks/useMyState',
  parameters: {
    docs: {
      description: {
        component:
          '`useMyState(name, { throttle? })` returns `[state, setState]` for my state in a channel: shared with every other participant, ' +
          'replaced whole (last writer wins), restored by the client after a reconnect. `throttle` caps outgoing updates (e.g. 60 Hz ' +
          'pointer moves to ≤ 20 Hz with `50`) while the local value updates at once.',
      },
    },
  },
  args: { throttle: 100 },
  argTypes: { throttle: { control: { type: 'range', min: 0, max: 1000, step: 50 }, description: 'useMyState(name, { throttle }): at most one outgoing update per this many ms; the local value updates at once' } },
  render: ({ throttle }, ctx) => {
    const channel = useStoryChannel(ctx.id);
    return (
      <Stage title="useMyState">
        <div className="demo-panes" data-count="2">
          <UserPane identity="alice" device="web">
            <Sender channel={channel} throttle={throttle} />
          </UserPane>
          <UserPane identity="bob" device="web">
            <Receiver channel={channel} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<Args>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
