import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Channel, ChannelStatus, Participant, Payload, SignalError, SignalMessage } from '../client/index.js';

/**
 * An immutable snapshot of another participant. A new object replaces it only when that participant's
 * state changes, so `Object.is` on a view (or on `view.state`) tells whether anything changed.
 */
export interface ParticipantView<S = unknown, M extends object = Payload> {
  /** Endpoint address `identity/device/route`. */
  readonly id: string;
  /** The user (first part of the address). */
  readonly identity: string;
  /** The device (second part of the address). */
  readonly device: string;
  /** Last state received; `undefined` when none. */
  readonly state: S | undefined;
  /** The live client object (for `participant.send(...)`). */
  readonly participant: Participant<S, M>;
}

/** What the per-channel zustand store holds. */
export interface ChannelSnapshot<M extends object = Payload, S = unknown> {
  /** The channel name. */
  readonly name: string;
  /** Join status; `joining` until the provider's client exists and the server accepted the join. */
  readonly status: ChannelStatus;
  /** The last refusal about this channel (join refused, publish refused, …). */
  readonly error: SignalError | undefined;
  /** The last channel messages, oldest first (bounded by the provider's `limits.channelMessages`). */
  readonly messages: readonly SignalMessage<M>[];
  /** Other participants (me excluded), in join order. Replaced on membership or state change. */
  readonly participants: readonly ParticipantView<S, M>[];
  /** The same views by endpoint address. */
  readonly byId: ReadonlyMap<string, ParticipantView<S, M>>;
  /** My own state in this channel. */
  readonly myState: S | undefined;
  /** Endpoint addresses of the participants typing now (kept by `Typists`, typing-store.ts). */
  readonly typing: readonly string[];
  /** The client's Channel, once joined (null before the provider connected). */
  readonly channel: Channel<M, S> | null;
}

/** The per-channel store as the React layer keeps it (payload and state types are the hooks' business). */
export type ChannelStore = StoreApi<ChannelSnapshot<Payload, unknown>>;

/** A new channel store: `joining`, nobody in it, no messages. */
export function createChannelStore(name: string): ChannelStore {
  return createStore<ChannelSnapshot<Payload, unknown>>(() => ({
    name,
    status: 'joining',
    error: undefined,
    messages: [],
    participants: [],
    byId: new Map(),
    myState: undefined,
    typing: [],
    channel: null,
  }));
}

/** Show no channel and nobody in it: `joining` (until a client is attached again) or `left`. Messages and my state stay. */
export function showEmpty(store: ChannelStore, status: 'joining' | 'left'): void {
  store.setState({ status, participants: [], byId: new Map(), typing: [], channel: null });
}

/** The immutable view of a participant as it is now. */
export function viewOf(p: Participant<unknown, Payload>): ParticipantView {
  return { id: p.id, identity: p.identity, device: p.device, state: p.state, participant: p };
}
