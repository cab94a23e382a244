import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { IncomingCall, useCall, VideoTile, type UseCall } from 'react-signal-service/calls';
import { useDemoServer } from '../support/demo-server.js';
import { cameraOrCanvas } from '../support/media.js';
import { colorOf, DemoFrame, deviceOf, nameOf, UserPane } from '../support/user-pane.js';

/** The calls of this page by `identity/device`, for the glare button and for browser tests (diagnostics only). */
const phones = new Map<string, UseCall>();
declare global {
  interface Window {
    __calls?: Map<string, UseCall>;
  }
}
if (typeof window !== 'undefined') window.__calls = phones;

const REASONS: Record<string, string> = {
  declined: 'declined',
  busy: 'busy',
  timeout: 'no answer',
  cancelled: 'cancelled',
  'hung-up': 'hung up',
  'answered-elsewhere': 'answered on another device',
  'peer-gone': 'the other side is gone',
  failed: 'failed',
};

/** The data channel of the call: a tiny chat, both ways. */
function DataChat({ channel }: { channel: RTCDataChannel | null }) {
  const [lines, setLines] = useState<string[]>([]);
  const [open, setOpen] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setLines([]);
    if (!channel) return;
    const onOpen = () => setOpen(true);
    const onClose = () => setOpen(false);
    const onMessage = (e: MessageEvent) => setLines((l) => [...l.slice(-4), `← ${String(e.data)}`]);
    setOpen(channel.readyState === 'open');
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
    channel.addEventListener('message', onMessage);
    return () => {
      channel.removeEventListener('open', onOpen);
      channel.removeEventListener('close', onClose);
      channel.removeEventListener('message', onMessage);
    };
  }, [channel]);
  if (!channel) return null;
  const send = (e: FormEvent) => {
    e.preventDefault();
    const text = input.current?.value.trim();
    if (!text || channel.readyState !== 'open') return;
    channel.send(text);
    setLines((l) => [...l.slice(-4), `→ ${text}`]);
    input.current!.value = '';
  };
  return (
    <form className="row" onSubmit={send} data-testid="data-chat" data-open={open ? 'yes' : 'no'}>
      <input ref={input} aria-label="Message over the data channel" placeholder="Peer-to-peer message" disabled={!open} />
      <button className="btn" type="submit" disabled={!open}>
        Send
      </button>
      <ul className="call-log" aria-label="Data channel messages">
        {lines.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
    </form>
  );
}

function VideoPhone({ identity, device, callees, ringTimeoutMs }: { identity: string; device: string; callees: string[]; ringTimeoutMs?: number }) {
  const call = useCall({ media: () => cameraOrCanvas(`${nameOf(identity)} · ${device}`, colorOf(identity)), ringTimeoutMs });
  const key = `${identity}/${device}`;
  phones.set(key, call);
  useEffect(() => () => void phones.delete(key), [key]);
  const live = call.status !== 'idle' && call.status !== 'ended';
  const peerName = call.peer ? nameOf(call.peer.identity) : '';
  return (
    <div className="video-phone" data-testid="phone" data-status={call.status} data-reason={call.endedReason ?? ''}>
      <div className="row">
        {callees.map((to) => (
          <button key={to} className="btn primary" disabled={live} onClick={() => call.start(to, { data: true })}>
            Call {nameOf(to)}
          </button>
        ))}
        {live && call.status !== 'incoming' ? (
          <button className="btn danger" onClick={call.hangUp}>
            {call.status === 'outgoing' ? 'Cancel' : 'Hang up'}
          </button>
        ) : null}
      </div>
      <IncomingCall call={call} getName={(p) => nameOf(p.identity)} />
      <p className="call-status" role="status" data-testid="call-status">
        {call.status === 'idle' && 'Idle'}
        {call.status === 'outgoing' && `Calling ${nameOf(call.to ?? '')}… ${call.ringing.length ? `(ringing on ${call.ringing.map(deviceOf).join(', ')})` : ''}`}
        {call.status === 'incoming' && `${peerName} is calling`}
        {call.status === 'connecting' && `Connecting to ${peerName} on ${call.peer?.device ?? ''}…`}
        {call.status === 'connected' && `In a call with ${peerName} on ${call.peer?.device ?? ''}`}
        {call.status === 'ended' && `Call ended: ${REASONS[call.endedReason ?? ''] ?? call.endedReason}`}
      </p>
      <div className="video-grid">
        <VideoTile stream={call.remoteStream} label={`Video from ${peerName || 'the other side'}`} className="remote" />
        <VideoTile stream={call.localStream} muted mirror label="My video" className="self" />
      </div>
      <DataChat channel={call.dataChannel} />
    </div>
  );
}

interface VideoCallDemoProps {
  /** The panes, `identity/device`: two devices of one user both ring. */
  endpoints: string[];
  /** How long a call rings. */
  ringTimeoutMs?: number;
}

/**
 * A real video call between panes on this page, each with its own provider (its own connection): `useCall` rings
 * every device of the callee over the signaling server, and the accepting device connects peer to peer
 * (`RTCPeerConnection`, perfect negotiation over direct messages). Video is the camera when granted, else a canvas.
 */
function VideoCallDemo({ endpoints, ringTimeoutMs }: VideoCallDemoProps) {
  const panes = endpoints.slice(0, 4).map((e) => ({ identity: e.split('/')[0]!, device: e.split('/')[1] ?? 'web' }));
  const identities = [...new Set(panes.map((p) => p.identity))];
  const glare = () => {
    // The first device of the first two users call each other at the same moment: exactly one call results.
    const [a, b] = identities;
    const pa = panes.find((p) => p.identity === a);
    const pb = panes.find((p) => p.identity === b);
    if (!a || !b || !pa || !pb) return;
    phones.get(`${pa.identity}/${pa.device}`)?.start(b, { data: true });
    phones.get(`${pb.identity}/${pb.device}`)?.start(a, { data: true });
  };
  return (
    <DemoFrame
      title="Video call"
      count={panes.length}
      lede={
        <>
          Call Bob from Alice: both of Bob's devices ring; accept on one and the video connects peer to peer, the other device shows
          “answered on another device”. <button className="btn" onClick={glare}>Glare: both call at once</button>
        </>
      }
    >
      {panes.map((p) => (
        <UserPane key={`${p.identity}/${p.device}`} identity={p.identity} device={p.device}>
          <VideoPhone identity={p.identity} device={p.device} callees={identities.filter((i) => i !== p.identity)} ringTimeoutMs={ringTimeoutMs} />
        </UserPane>
      ))}
    </DemoFrame>
  );
}

/** One device alone (its own page): browser tests open several pages of it against one real server. */
function OnePhone({ identity, device, callees, ringTimeoutMs }: { identity: string; device: string; callees: string; ringTimeoutMs?: number }) {
  const server = useDemoServer();
  return (
    <DemoFrame title="Video call: one device" count={1} lede={<>One device of a call; open another page for the other side.</>}>
      <UserPane
        identity={identity}
        device={device}
        actions={
          <button className="btn" onClick={() => server.drop(identity)}>
            Drop signaling
          </button>
        }
      >
        <VideoPhone identity={identity} device={device} callees={callees.split(',').filter(Boolean)} ringTimeoutMs={ringTimeoutMs} />
      </UserPane>
    </DemoFrame>
  );
}

const meta = {
  title: 'Demos/Video call',
  component: VideoCallDemo,
  tags: ['!autodocs'],
  args: { endpoints: ['alice/laptop', 'bob/phone', 'bob/tablet'] },
  argTypes: { endpoints: { control: 'object', description: "The panes, as 'identity/device' (2 to 4)" } },
} satisfies Meta<typeof VideoCallDemo>;
export default meta;

export const AliceCallsBobOnTwoDevices: StoryObj<typeof meta> = {};
export const OneDevice: StoryObj<typeof meta> = {
  args: { endpoints: [] },
  render: (_args, ctx) => {
    const q = typeof location === 'undefined' ? new URLSearchParams() : new URLSearchParams(location.search);
    void ctx;
    const ring = Number(q.get('ring'));
    return <OnePhone identity={q.get('identity') ?? 'alice'} device={q.get('device') ?? 'web'} callees={q.get('callees') ?? 'bob'} ringTimeoutMs={ring > 0 ? ring : undefined} />;
  },
};
