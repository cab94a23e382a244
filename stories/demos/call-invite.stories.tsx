import type { Meta, StoryObj } from '@storybook/react-vite';
import { useDirectMessages } from 'react-signal-service';
import { isCallSignal, useCall, type UseCall } from 'react-signal-service/calls';
import { DemoFrame, deviceOf, identityOf, nameOf, UserPane } from '../support/user-pane.js';

/** A received call signal, as the log shows it. */
type Logged = { type: string };

function PhoneIcon() {
  return (
    <svg className="phone-icon" width="16" height="16" viewBox="0 0 24 24" aria-hidden="true">
      <path
        fill="currentColor"
        d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.6a1 1 0 0 1-.25 1z"
      />
    </svg>
  );
}

/** The card of an outgoing call: its useCall status as this demo words it. */
function outgoingStatus(call: UseCall): string {
  if (call.status === 'outgoing') return 'calling';
  if (call.status === 'connecting' || call.status === 'connected') return 'accepted';
  if (call.endedReason === 'declined' || call.endedReason === 'busy') return 'declined';
  return call.endedReason === 'cancelled' || call.endedReason === 'timeout' ? 'cancelled' : 'ended';
}
function incomingStatus(call: UseCall): string {
  if (call.status === 'incoming') return 'ringing';
  if (call.status === 'connecting' || call.status === 'connected') return 'accepted';
  if (call.endedReason === 'declined' && !call.endedBy) return 'declined';
  if (call.endedReason === 'answered-elsewhere') return 'elsewhere';
  return call.endedReason === 'cancelled' || call.endedReason === 'timeout' ? 'cancelled' : 'ended';
}

function CallPhone({ identity, callees }: { identity: string; callees: string[] }) {
  // Invites only: no camera, a data channel (the call still really connects, peer to peer).
  const call = useCall({ media: false });
  const { messages } = useDirectMessages<Logged>({ filter: isCallSignal, limit: 6 });
  const callerName = call.peer ? nameOf(call.peer.identity) : '';
  const busy = call.status !== 'idle' && call.status !== 'ended';
  const out = call.direction === 'outgoing' ? outgoingStatus(call) : null;
  const inc = call.direction === 'incoming' ? incomingStatus(call) : null;
  // Who answered (or declined): the exact endpoint, as the caller learned it.
  const by = call.status === 'ended' ? call.endedBy : call.peer?.address;

  return (
    <>
      <div className="row">
        {callees.map((to) => (
          <button key={to} className="btn primary" disabled={busy} onClick={() => call.start(to, { data: true })}>
            Call {nameOf(to)}
          </button>
        ))}
      </div>

      {out ? (
        <div className={`call-card ${out}`} data-testid="outgoing" data-status={out} role="status">
          <span className="call-status">
            {out === 'calling' && `Calling ${nameOf(call.to ?? '')}…`}
            {out === 'accepted' && `${callerName} accepted on ${deviceOf(by ?? '')}`}
            {out === 'declined' && `${callerName} declined on ${deviceOf(by ?? '')}`}
            {out === 'cancelled' && 'Call cancelled'}
            {out === 'ended' && 'Call ended'}
          </span>
          {by && (out === 'accepted' || out === 'declined') ? <small>reply from {by}</small> : null}
          <div className="row">
            {out === 'calling' ? (
              <button className="btn danger" onClick={call.hangUp}>
                Cancel
              </button>
            ) : null}
            {out === 'accepted' ? (
              <button className="btn danger" onClick={call.hangUp}>
                Hang up
              </button>
            ) : null}
          </div>
        </div>
      ) : null}

      {inc ? (
        <div className={`call-card ${inc}`} data-testid="incoming" data-status={inc} role={inc === 'ringing' ? 'alert' : 'status'}>
          <span className="call-status">
            {inc === 'ringing' ? <PhoneIcon /> : null}
            {inc === 'ringing' && `${callerName} is calling…`}
            {inc === 'accepted' && `In a call with ${callerName}`}
            {inc === 'declined' && `You declined ${callerName}`}
            {inc === 'elsewhere' && `${call.endedDetail === 'declined' ? 'Declined' : 'Answered'} on ${deviceOf(call.endedBy ?? '')}`}
            {inc === 'cancelled' && `Missed call from ${callerName}`}
            {inc === 'ended' && `Call with ${callerName} ended`}
          </span>
          <small>from {call.peer?.address}</small>
          {inc === 'ringing' ? (
            <div className="row">
              <button className="btn ok" onClick={() => call.accept()}>
                Accept
              </button>
              <button className="btn danger" onClick={() => call.decline()}>
                Decline
              </button>
            </div>
          ) : null}
          {inc === 'accepted' ? (
            <div className="row">
              <button className="btn danger" onClick={call.hangUp}>
                Hang up
              </button>
            </div>
          ) : null}
        </div>
      ) : null}

      {call.status === 'idle' ? <p className="idle">Idle. Start a call, or wait for one.</p> : null}

      <p className="section-label">Signals received</p>
      <ul className="call-log" aria-label={`Signals of ${nameOf(identity)}`}>
        {messages.length === 0 ? <li>none yet</li> : null}
        {messages.map((m, i) => (
          <li key={i}>
            ← {m.type} from {m.from}
          </li>
        ))}
      </ul>
    </>
  );
}

interface CallDemoProps {
  /** The panes: `identity/device`, 2 to 4 of them. Two devices of one user both ring. */
  endpoints: string[];
}

/**
 * Call invite, with `useCall` (react-signal-service/calls): `call.start('bob')` sends a `call-invite` direct message
 * to the identity, so every device of that user rings. Accepting on one device answers the caller's exact endpoint;
 * the caller then tells the callee's devices (`call-answered`) who answered, and the others stop ringing
 * (`answered-elsewhere`). The signals are a documented convention over direct messages (PROTOCOL.md, "Calls").
 */
function CallInviteDemo({ endpoints }: CallDemoProps) {
  const panes = endpoints.slice(0, 4).map((e) => ({ identity: e.split('/')[0]!, device: e.split('/')[1] ?? 'web' }));
  const identities = [...new Set(panes.map((p) => p.identity))];
  return (
    <DemoFrame
      title="Call invite"
      count={panes.length}
      lede={
        <>
          Call Bob from Alice's laptop: both of Bob's devices ring. Accept on one: Alice's laptop (the exact endpoint that called)
          learns who answered, and Bob's other device stops ringing.
        </>
      }
    >
      {panes.map((p) => (
        <UserPane key={`${p.identity}/${p.device}`} identity={p.identity} device={p.device}>
          <CallPhone identity={p.identity} callees={identities.filter((i) => i !== p.identity)} />
        </UserPane>
      ))}
    </DemoFrame>
  );
}

const meta = {
  title: 'Demos/Call invite',
  component: CallInviteDemo,
  tags: ['!autodocs'],
  args: { endpoints: ['alice/laptop', 'alice/phone', 'bob/laptop', 'bob/phone'] },
  argTypes: { endpoints: { control: 'object', description: "The panes, as 'identity/device' (2 to 4); two devices of one user both ring" } },
} satisfies Meta<typeof CallInviteDemo>;
export default meta;

export const TwoUsersFourDevices: StoryObj<typeof meta> = {};
export const ThreeUsers: StoryObj<typeof meta> = { args: { endpoints: ['alice/laptop', 'bob/laptop', 'bob/phone', 'carol/web'] } };
