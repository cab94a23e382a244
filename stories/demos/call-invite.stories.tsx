import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useRef, useState } from 'react';
import type { SignalMessage } from 'react-signal-service/client';
import { useDirectMessages } from 'react-signal-service';
import { DemoFrame, deviceOf, identityOf, nameOf, UserPane } from '../support/user-pane.js';

/** The call signals, all plain direct messages. */
type CallSignal =
  | { type: 'call-invite'; callId: string }
  | { type: 'call-accept'; callId: string }
  | { type: 'call-decline'; callId: string }
  | { type: 'call-answered'; callId: string; answer: 'accepted' | 'declined' }
  | { type: 'call-cancel'; callId: string }
  | { type: 'call-hangup'; callId: string };

type Outgoing = { callId: string; to: string; status: 'calling' | 'accepted' | 'declined' | 'cancelled' | 'ended'; by?: string };
type Incoming = {
  callId: string;
  from: string;
  status: 'ringing' | 'accepted' | 'declined' | 'elsewhere' | 'cancelled' | 'ended';
  elsewhere?: { device: string; answer: 'accepted' | 'declined' };
};

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

function CallPhone({ identity, callees }: { identity: string; callees: string[] }) {
  const { messages, send } = useDirectMessages<CallSignal>();
  const [outgoing, setOutgoing] = useState<Outgoing | null>(null);
  const [incoming, setIncoming] = useState<Incoming | null>(null);
  const [log, setLog] = useState<string[]>([]);
  const seen = useRef(new WeakSet<object>());
  const note = (line: string) => setLog((l) => [...l.slice(-5), line]);

  const signal = (to: string, payload: CallSignal) => {
    send({ ...payload, to });
    note(`→ ${payload.type} to ${to}`);
  };

  // Handle each direct message once, in order.
  useEffect(() => {
    for (const m of messages) {
      if (seen.current.has(m)) continue;
      seen.current.add(m);
      handle(m);
    }
  }); // eslint-disable-line react-hooks/exhaustive-deps

  function handle(m: SignalMessage<CallSignal>) {
    note(`← ${m.type} from ${m.from}`);
    switch (m.type) {
      case 'call-invite':
        setIncoming({ callId: m.callId, from: m.from, status: 'ringing' });
        return;
      case 'call-accept':
      case 'call-decline':
        setOutgoing((o) => (o && o.callId === m.callId && o.status === 'calling' ? { ...o, status: m.type === 'call-accept' ? 'accepted' : 'declined', by: m.from } : o));
        return;
      case 'call-answered':
        // Another device of mine answered: stop ringing here.
        setIncoming((c) => (c && c.callId === m.callId && c.status === 'ringing' ? { ...c, status: 'elsewhere', elsewhere: { device: deviceOf(m.from), answer: m.answer } } : c));
        return;
      case 'call-cancel':
        setIncoming((c) => (c && c.callId === m.callId && c.status === 'ringing' ? { ...c, status: 'cancelled' } : c));
        return;
      case 'call-hangup':
        setIncoming((c) => (c && c.callId === m.callId ? { ...c, status: 'ended' } : c));
        setOutgoing((o) => (o && o.callId === m.callId ? { ...o, status: 'ended' } : o));
        return;
    }
  }

  const call = (to: string) => {
    const callId = Math.random().toString(36).slice(2, 8);
    setOutgoing({ callId, to, status: 'calling' });
    signal(to, { type: 'call-invite', callId }); // every device of `to` rings
  };
  const answer = (accept: boolean) => {
    if (!incoming) return;
    // Reply to the caller's exact endpoint, then tell my other devices to stop ringing.
    signal(incoming.from, { type: accept ? 'call-accept' : 'call-decline', callId: incoming.callId });
    signal(identity, { type: 'call-answered', callId: incoming.callId, answer: accept ? 'accepted' : 'declined' });
    setIncoming({ ...incoming, status: accept ? 'accepted' : 'declined' });
  };
  const callerName = incoming ? nameOf(identityOf(incoming.from)) : '';
  const busy = outgoing?.status === 'calling' || outgoing?.status === 'accepted' || incoming?.status === 'ringing' || incoming?.status === 'accepted';

  return (
    <>
      <div className="row">
        {callees.map((to) => (
          <button key={to} className="btn primary" disabled={busy} onClick={() => call(to)}>
            Call {nameOf(to)}
          </button>
        ))}
      </div>

      {outgoing ? (
        <div className={`call-card ${outgoing.status}`} data-testid="outgoing" data-status={outgoing.status} role="status">
          <span className="call-status">
            {outgoing.status === 'calling' && `Calling ${nameOf(outgoing.to)}…`}
            {outgoing.status === 'accepted' && `${nameOf(outgoing.to)} accepted on ${deviceOf(outgoing.by ?? '')}`}
            {outgoing.status === 'declined' && `${nameOf(outgoing.to)} declined on ${deviceOf(outgoing.by ?? '')}`}
            {outgoing.status === 'cancelled' && 'Call cancelled'}
            {outgoing.status === 'ended' && 'Call ended'}
          </span>
          {outgoing.by ? <small>reply from {outgoing.by}</small> : null}
          <div className="row">
            {outgoing.status === 'calling' ? (
              <button
                className="btn danger"
                onClick={() => {
                  signal(outgoing.to, { type: 'call-cancel', callId: outgoing.callId });
                  setOutgoing({ ...outgoing, status: 'cancelled' });
                }}
              >
                Cancel
              </button>
            ) : null}
            {outgoing.status === 'accepted' ? (
              <button
                className="btn danger"
                onClick={() => {
                  signal(outgoing.by!, { type: 'call-hangup', callId: outgoing.callId });
                  setOutgoing({ ...outgoing, status: 'ended' });
                }}
              >
                Hang up
              </button>
            ) : null}
          </div>
        </div>
      ) : null}

      {incoming ? (
        <div className={`call-card ${incoming.status}`} data-testid="incoming" data-status={incoming.status} role={incoming.status === 'ringing' ? 'alert' : 'status'}>
          <span className="call-status">
            {incoming.status === 'ringing' ? <PhoneIcon /> : null}
            {incoming.status === 'ringing' && `${callerName} is calling…`}
            {incoming.status === 'accepted' && `In a call with ${callerName}`}
            {incoming.status === 'declined' && `You declined ${callerName}`}
            {incoming.status === 'elsewhere' && `${incoming.elsewhere?.answer === 'accepted' ? 'Answered' : 'Declined'} on ${incoming.elsewhere?.device}`}
            {incoming.status === 'cancelled' && `Missed call from ${callerName}`}
            {incoming.status === 'ended' && `Call with ${callerName} ended`}
          </span>
          <small>from {incoming.from}</small>
          {incoming.status === 'ringing' ? (
            <div className="row">
              <button className="btn ok" onClick={() => answer(true)}>
                Accept
              </button>
              <button className="btn danger" onClick={() => answer(false)}>
                Decline
              </button>
            </div>
          ) : null}
          {incoming.status === 'accepted' ? (
            <div className="row">
              <button
                className="btn danger"
                onClick={() => {
                  signal(incoming.from, { type: 'call-hangup', callId: incoming.callId });
                  setIncoming({ ...incoming, status: 'ended' });
                }}
              >
                Hang up
              </button>
            </div>
          ) : null}
        </div>
      ) : null}

      {!incoming && !outgoing ? <p className="idle">Idle. Start a call, or wait for one.</p> : null}

      <p className="section-label">Signals</p>
      <ul className="call-log" aria-label={`Signals of ${nameOf(identity)}`}>
        {log.length === 0 ? <li>none yet</li> : null}
        {log.map((l, i) => (
          <li key={i}>{l}</li>
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
 * Call invite: a direct message to an identity (`send({ to: 'bob', type: 'call-invite' })`) rings every
 * device of that user. Accepting on one device replies to the caller's exact endpoint (`msg.from`) and tells
 * the user's other devices (`to: 'bob'`, which never echoes to the sender) to stop ringing.
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
