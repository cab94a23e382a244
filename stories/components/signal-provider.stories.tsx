import type { Meta, StoryObj } from '@storybook/react-vite';
import { SignalProvider, useConnectionState, useIdentity } from 'react-signal-service';
import { Stage } from '../support/stage.js';
import { UserProvider } from '../support/user-pane.js';

function Who() {
  const identity = useIdentity();
  const state = useConnectionState();
  return (
    <p className="state-card">
      <strong>{identity ?? '…'}</strong>: <span className="conn" data-state={state}>{state}</span>
    </p>
  );
}

const meta = {
  title: 'Components/SignalProvider',
  component: SignalProvider,
  parameters: {
    docs: {
      description: {
        component:
          '`<SignalProvider token={jwt}>` owns one connection: it creates and connects the `Signal` client in an effect (never during ' +
          'render, never on the server), closes it on unmount, survives StrictMode\'s double mount, and swaps a new `token` in place. ' +
          'Every hook below it reads its stores. Pass `client` instead to use a client your app owns. Several providers on one page ' +
          'are several users, as in these demos.',
      },
    },
  },
  args: { token: '(minted by the story)' },
  argTypes: { token: { control: false }, client: { control: false }, options: { control: false }, children: { control: false } },
  render: () => (
    <Stage
      title="SignalProvider"
      lede={
        <>
          Three providers, three connections. <code>{'<SignalProvider token={jwt} options={{ WebSocket }}>'}</code>
        </>
      }
    >
      <div className="demo-panes" data-count="3">
        {['alice', 'bob', 'carol'].map((id) => (
          <section key={id} className="pane" aria-label={`${id}'s provider`} style={{ minHeight: 0 }}>
            <div className="pane-body">
              <UserProvider identity={id} device="web">
                <Who />
              </UserProvider>
            </div>
          </section>
        ))}
      </div>
    </Stage>
  ),
} satisfies Meta<typeof SignalProvider>;
export default meta;

export const ThreeProviders: StoryObj<typeof meta> = {};
