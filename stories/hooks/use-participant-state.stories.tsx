import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useState } from 'react';
import { useMyState, useParticipantState } from 'react-signal-service';
import { Stage } from '../support/stage.js';
import { useStoryChannel } from '../support/demo-server.js';
import { nameOf, UserPane } from '../support/user-pane.js';

interface Score {
  name: string;
  score: number;
}

/** Props of the story. */
interface Args {
  /** Whose state to watch: an identity, or a full `identity/device/route`. */
  participantId: string;
}

/** A player whose score goes up every second. */
function Player({ identity, channel }: { identity: string; channel: string }) {
  const [me, setMe] = useMyState<Score>(channel);
  useEffect(() => {
    setMe({ name: nameOf(identity), score: 0 });
    const t = setInterval(() => setMe((s) => ({ name: nameOf(identity), score: (s?.score ?? 0) + 1 })), 1000);
    return () => clearInterval(t);
  }, [identity, setMe]);
  return (
    <p>
      My score: <strong>{me?.score ?? 0}</strong> (shared with <code>useMyState</code>)
    </p>
  );
}

function Watcher({ channel, participantId }: { channel: string; participantId: string }) {
  const state = useParticipantState<Score>(channel, participantId);
  const [renders, setRenders] = useState(0);
  useEffect(() => setRenders((n) => n + 1), [state]);
  return (
    <>
      <p className="section-label">useParticipantState(channel, '{participantId}')</p>
      <pre className="kv" data-testid="watched">{state === undefined ? 'undefined' : JSON.stringify(state, null, 2)}</pre>
      <p>
        <small>state changes seen: {renders}</small>
      </p>
    </>
  );
}

const meta = {
  title: 'Hooks/useParticipantState',
  parameters: {
    docs: {
      description: {
        component:
          '`useParticipantState(name, participantId)` returns one participant\'s state (by endpoint address, or the first endpoint of ' +
          'an identity) and re-renders only when that participant\'s state changes, whatever the others do.',
      },
    },
  },
  args: { participantId: 'alice' },
  argTypes: { participantId: { control: 'select', options: ['alice', 'bob'], description: 'Identity or full address to watch' } },
  render: ({ participantId }, ctx) => {
    const channel = useStoryChannel(ctx.id);
    return (
      <Stage title="useParticipantState">
        <div className="demo-panes" data-count="3">
          <UserPane identity="alice" device="web">
            <Player identity="alice" channel={channel} />
          </UserPane>
          <UserPane identity="bob" device="web">
            <Player identity="bob" channel={channel} />
          </UserPane>
          <UserPane identity="carol" device="web">
            <Watcher channel={channel} participantId={participantId} />
          </UserPane>
        </div>
      </Stage>
    );
  },
} satisfies Meta<Args>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
