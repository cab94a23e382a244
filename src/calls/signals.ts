import { parseAddress } from '../protocol/address.js';

/**
 * The call signals: a convention over direct messages (PROTOCOL.md, "Calls"). Every signal carries `type` and
 * `call` (the call id). Invite, ringing, busy, decline, accept, answered and cancel are plain direct messages; the
 * negotiation (`call-sdp`, `call-ice`) and `call-hangup` are sent in the per-call channel's context
 * ({@link callChannel}) to the peer's exact endpoint.
 */
export type CallSignal =
  | { type: 'call-invite'; call: string; media?: { audio: boolean; video: boolean }; data?: boolean; timeout?: number }
  | { type: 'call-ringing' | 'call-accept' | 'call-hangup'; call: string }
  | { type: 'call-busy'; call: string }
  | { type: 'call-decline'; call: string; reason?: string }
  | { type: 'call-answered'; call: string; by: string; answer?: 'accepted' | 'declined' }
  | { type: 'call-cancel'; call: string; reason?: 'cancelled' | 'timeout' }
  | NegotiationSignal;

/** The negotiation signals of one peer connection (perfect negotiation, batched ICE candidates). */
export type NegotiationSignal =
  | { type: 'call-sdp'; call: string; description: RTCSessionDescriptionInit }
  | { type: 'call-ice'; call: string; candidates: RTCIceCandidateInit[]; done?: boolean };

/** The per-call channel: both ends join it with presence (the peer leaving it ends the call: `peer-gone`). */
export const callChannel = (call: string): string => `call:${call}`;

/** A new call id: 16 random base-36 characters. */
export const newCallId = (): string => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b % 36).toString(36)).join('');

/** `identity/device` of an address (the part that survives a reconnect; the route does not); `undefined` for none. */
export function deviceOf(address: string): string;
export function deviceOf(address: string | undefined): string | undefined;
export function deviceOf(address: string | undefined): string | undefined {
  const a = parseAddress(address);
  return a ? `${a.identity}/${a.device ?? ''}` : address;
}

/** Whether `msg` is a call signal (an object with a string `type` starting with `call-` and a string `call`). */
export function isCallSignal(msg: unknown): msg is CallSignal & { from: string } {
  const m = msg as { type?: unknown; call?: unknown; from?: unknown } | null;
  return typeof m?.type === 'string' && m.type.startsWith('call-') && typeof m.call === 'string' && typeof m.from === 'string';
}

/**
 * Perfect negotiation's roles, from the two ends' `identity/device` (stable across reconnects), then the full
 * addresses: the greater one is polite. Both ends compute opposite answers.
 */
export function isPolite(me: string, peer: string): boolean {
  const a = deviceOf(me);
  const b = deviceOf(peer);
  return a === b ? me > peer : a > b;
}
