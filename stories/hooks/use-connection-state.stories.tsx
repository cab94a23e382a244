import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useState } from 'react';
import { useConnectionState, useSignal } from 'react-signal-service';
import { useDemoServer } from '../support/demo-server.js';
import { Stage } from '../support/stage.js';
import { UserPane } from '../support/user-pane.js';

/** Props of the example component. */
interface ConnectionProps {
  /** Whose connection (a `SignalProvider` per user). */
  identity: string;
}

/** `useConnectionState()` and `useSignal()`: the provider's connection, read anywhere below it. */
function ConnectionExample({ identity }: ConnectionProps) {
  const state = useConnectionState();
  const signal = useSignal();
  const server = useDemoServer();
  const [history, setHistory] = useState<string[]>([]);
  useEffect(() => setHistory((h) => [...h.slice(-7), state]), [state]);
  return (
    <>
      <dl className="state-card" style={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '4px 12px', margin: 0 }}>
        <dt>useConnectionState()</dt>
        <dd data-testid="state" style={{ margin: 0 }}>
          <strong>{state}</strong>
        </dd>
        <dt>seen</dt>
        <dd data-testid="history" style={{ margin: 0 }}>
          {history.join(' → ')}
        </dd>
        <dt>useSignal()?.token.identity</dt>
        <dd style={{ margin: 0 }}>{signal?.token.identity ?? '…'}</dd>
      </dl>
      <div className="row">
        <button className="btn danger" onClick={() => server.drop(identity)}>
          Drop connection
        </button>
      </div>
      <pre className="kv">{`function Status() {
  const state = useConnectionState(); // 'connecting' | 'open' | 'reconnecting' | 'closed'
  return <span>{state}</span>;
}`}</pre>
    </>
  );
}

const meta = {
  title: 'Hooks/useConnectionState',
  component: ConnectionExample,
  parameters: {
    docs: {
      description: {
        component:
          '`useConnectionState()` returns the provider\'s connection state (`connecting | open | reconnecting | closed`) and re-renders ' +
          'only when it changes. `useSignal()` returns the provider\'s `Signal` client (`null` until the provider\'s effect created it) ' +
          'and throws outside a `SignalProvider` with a message naming the fix. Drop the connection to watch `reconnecting` then `open`.',
      },
    },
  },
  args: { identity: 'alice' },
  argTypes: { identity: { control: 'select', options: ['alice', 'bob', 'carol'], description: 'Whose connection (one SignalProvider per user)' } },
  render: (args) => (
    <Stage title="useConnectionState · useSignal">
      <div className="demo-panes" data-count="2">
        <UserPane identity={args.identity} device="web">
          <ConnectionExample {...args} />
        </UserPane>
      </div>
    </Stage>
  ),
} satisfies Meta<typeof ConnectionExample>;
export default meta;

export const Default: StoryObj<typeof meta> = {};
