/** Where a call is. */
export type CallStatus = 'idle' | 'outgoing' | 'incoming' | 'connecting' | 'connected' | 'ended';

/** Why a call ended. */
export type CallEndReason = 'declined' | 'busy' | 'timeout' | 'cancelled' | 'hung-up' | 'answered-elsewhere' | 'peer-gone' | 'failed';

/** The other end of a call. */
export interface CallPeer {
  identity: string;
  /** The device, once known (the invite's sender, or the device that answered). */
  device?: string;
  /** Its exact endpoint `identity/device/route`, once known; it changes when the peer reconnects. */
  address?: string;
}

/** A call as the reducer sees it (no media objects: those live beside it). */
export interface CallMachine {
  status: CallStatus;
  /** The call id (`undefined` when idle). */
  id?: string;
  /** Who called whom. */
  direction?: 'outgoing' | 'incoming';
  peer?: CallPeer;
  /** What the caller dialled (identity, device or endpoint). */
  to?: string;
  /** Endpoints of the callee that are ringing (outgoing calls). */
  ringing: readonly string[];
  /** What the call carries: media kinds and a data channel. */
  media: { audio: boolean; video: boolean };
  data: boolean;
  endedReason?: CallEndReason;
  /**
   * More about the end: a decline's reason, an error message; for `answered-elsewhere`, `accepted` or `declined`
   * (what the other device did).
   */
  endedDetail?: string;
  /** The endpoint that ended it, when another one did: who declined, answered elsewhere, or hung up. */
  endedBy?: string;
}

/** What can happen to a call. */
export type CallEvent =
  | { type: 'start'; id: string; to: string; media: CallMachine['media']; data: boolean }
  | { type: 'invited'; id: string; from: string; media: CallMachine['media']; data: boolean }
  | { type: 'ringing'; from: string }
  | { type: 'accept' }
  | { type: 'accepted'; from: string }
  | { type: 'connected' }
  | { type: 'peer-moved'; address: string }
  | { type: 'end'; reason: CallEndReason; detail?: string; by?: string }
  | { type: 'reset' };

export const IDLE: CallMachine = { status: 'idle', ringing: [], media: { audio: false, video: false }, data: false };

function peerOf(address: string): CallPeer {
  const [identity, device, route] = address.split('/') as [string, string?, string?];
  return route === undefined ? (device === undefined ? { identity } : { identity, device }) : { identity, device, address };
}

/**
 * The call state machine, pure: `idle → outgoing | incoming (ringing) → connecting → connected → ended`, and back to
 * idle by `reset` (or a new `start`/`invited` once ended). An event that does not apply returns the same object.
 */
export function callReducer(s: CallMachine, e: CallEvent): CallMachine {
  const live = s.status !== 'idle' && s.status !== 'ended';
  switch (e.type) {
    case 'start':
      return live ? s : { status: 'outgoing', id: e.id, direction: 'outgoing', to: e.to, peer: peerOf(e.to), ringing: [], media: e.media, data: e.data };
    case 'invited':
      return live ? s : { status: 'incoming', id: e.id, direction: 'incoming', peer: peerOf(e.from), ringing: [], media: e.media, data: e.data };
    case 'ringing':
      return s.status === 'outgoing' && !s.ringing.includes(e.from) ? { ...s, ringing: [...s.ringing, e.from] } : s;
    case 'accept':
      return s.status === 'incoming' ? { ...s, status: 'connecting' } : s;
    case 'accepted':
      return s.status === 'outgoing' ? { ...s, status: 'connecting', peer: peerOf(e.from), ringing: [] } : s;
    case 'connected':
      return s.status === 'connecting' ? { ...s, status: 'connected' } : s;
    case 'peer-moved':
      return live && s.peer?.address !== e.address ? { ...s, peer: peerOf(e.address) } : s;
    case 'end':
      return live ? { ...s, status: 'ended', ringing: [], endedReason: e.reason, endedDetail: e.detail, endedBy: e.by } : s;
    case 'reset':
      return s.status === 'idle' ? s : IDLE;
  }
}
