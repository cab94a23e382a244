'use client';
import { useCallback, useEffect, useRef } from 'react';
import type { StoreApi } from 'zustand/vanilla';
import { shallow } from './shallow.js';
import type { Channel } from '../client/channel.js';
import type { SignalError } from '../client/errors.js';
import type { Participant } from '../client/participant.js';
import type { Signal } from '../client/signal.js';
import type { ChannelStatus, ConnectionState, Payload, SignalMessage } from '../client/types.js';
import type { ChannelEntry, ChannelSnapshot, ParticipantView } from './channel-entry.js';
import { useHub } from './context.js';
import { useStoreSelector } from './use-store.js';

/**
 * The provider's client, or `null` until the provider's effect created it (first render, server rendering).
 * Throws outside a `SignalProvider`.
 */
export function useSignal<M extends object = Payload>(): Signal<M> | null {
  const hub = useHub('useSignal()');
  return useStoreSelector(hub.connection, (s) => s.client) as Signal<M> | null;
}

/** The connection state (`connecting | open | reconnecting | closed`); re-renders only when it changes. */
export function useConnectionState(): ConnectionState {
  return useStoreSelector(useHub('useConnectionState()').connection, (s) => s.state);
}

/** The last error the client reported (a refusal, a connection failure, a malformed token), or `undefined`. */
export function useConnectionError(): SignalError | undefined {
  return useStoreSelector(useHub('useConnectionError()').connection, (s) => s.error);
}

/** Options of {@link useDirectMessages}. */
export interface DirectMessagesOptions<M extends object> {
  /** How many of the last (matching) messages to return; capped by the provider's `limits.directMessages`. @default 100 */
  limit?: number;
  /** Keep only the messages this returns true for (applied to the provider's buffer). */
  filter?: (msg: SignalMessage<M>) => boolean;
}

/** Result of {@link useDirectMessages}. */
export interface DirectMessages<M extends object> {
  /** The last direct messages received (oldest first); a new array only when the selection changed. */
  messages: readonly SignalMessage<M>[];
  /** Send a direct message (`to`: `identity`, `identity/device` or a full address). Queued while reconnecting. */
  send: (payload: M & { to: string }) => void;
}

/**
 * Direct messages (not in a channel's context). The provider buffers the last `limits.directMessages`
 * (default 100) from the moment it connected; this returns the last `limit` of them that pass `filter`.
 * A channel message never re-renders this hook.
 */
export function useDirectMessages<M extends object = Payload>(options: DirectMessagesOptions<M> = {}): DirectMessages<M> {
  const hub = useHub('useDirectMessages()');
  const { limit, filter } = options;
  const select = useCallback(
    (s: { readonly messages: readonly SignalMessage<Payload>[] }) => {
      const list = s.messages as readonly SignalMessage<M>[];
      return lastOf(filter ? list.filter(filter) : list, limit);
    },
    [filter, limit],
  );
  const messages = useStoreSelector(hub.direct, select, shallow);
  const send = useCallback(
    (payload: M & { to: string }) => {
      const client = hub.connection.getState().client;
      if (!client) throw new Error('react-signal-service: send() before the provider created its client (call it from an event or effect)');
      client.send(payload as Payload & { to: string });
    },
    [hub],
  );
  return { messages, send };
}

/** The last `limit` items of `list` (`list` itself when it has no more). */
function lastOf<T>(list: readonly T[], limit: number | undefined): readonly T[] {
  return limit !== undefined && list.length > limit ? list.slice(list.length - Math.max(0, limit)) : list;
}

/** Hold channel `name` while the component is mounted (reference counted). */
function useChannelEntry(hook: string, name: string, presence: boolean): ChannelEntry {
  const hub = useHub(hook);
  const entry = hub.entry(name);
  useEffect(() => hub.hold(entry, presence), [hub, entry, presence]);
  return entry;
}

type Snap<M extends object, S> = ChannelSnapshot<M, S>;
function storeOf<M extends object, S>(entry: ChannelEntry): StoreApi<Snap<M, S>> {
  return entry.store as unknown as StoreApi<Snap<M, S>>;
}

/** Options of {@link useChannel}. */
export interface UseChannelOptions<M extends object, S> {
  /**
   * Join with presence (announce me, learn who is here). In this React layer presence is on by default; a
   * channel is joined with presence when any component holding it asks for it.
   * @default true
   */
  presence?: boolean;
  /** Called for each channel message (typing frames excluded); the latest function is always used. */
  onMessage?: (msg: SignalMessage<M>, participant: Participant<S, M> | undefined) => void;
  /** How many of the last messages to return; capped by the provider's `limits.channelMessages`. @default 100 */
  limit?: number;
}

/** Result of {@link useChannel}. */
export interface UseChannelResult<M extends object, S> {
  /** Publish to every other member. Returns false (and sets `error` unless one is set) when the channel is not joined or failed; never throws. */
  publish: (payload: M) => boolean;
  /** The last channel messages (oldest first), including in-channel direct messages to me (`msg.to` set). */
  messages: readonly SignalMessage<M>[];
  /** `joining` (also while (re)connecting), `joined`, `failed` (see `error`) or `left`. */
  status: ChannelStatus;
  /** Why the join (or a later call) was refused. */
  error: SignalError | undefined;
  /** The client's Channel once the provider connected, else `null`. */
  channel: Channel<M, S> | null;
}

/**
 * Join channel `name` while mounted: the first component using a channel joins it, the last one to unmount
 * leaves it (reference counted across components and StrictMode). Re-renders on this channel's messages,
 * status and errors only (not on presence, state or typing changes).
 */
export function useChannel<M extends object = Payload, S = unknown>(
  name: string,
  options: UseChannelOptions<M, S> = {},
): UseChannelResult<M, S> {
  const entry = useChannelEntry('useChannel()', name, options.presence ?? true);
  const onMessage = useRef(options.onMessage);
  onMessage.current = options.onMessage;
  const listening = options.onMessage !== undefined;
  useEffect(() => {
    if (!listening) return;
    return entry.onMessage((msg, p) => onMessage.current?.(msg as SignalMessage<M>, p as unknown as Participant<S, M>));
  }, [entry, listening]);
  const limit = options.limit;
  const select = useCallback(
    (s: Snap<M, S>) => ({
      status: s.status,
      error: s.error,
      channel: s.channel,
      messages: lastOf(s.messages, limit),
    }),
    [limit],
  );
  const sel = useStoreSelector(storeOf<M, S>(entry), select, sameChannelSelection);
  const publish = useCallback((payload: M) => entry.publish(payload as Payload), [entry]);
  return { ...sel, publish };
}

function sameChannelSelection<M extends object, S>(
  a: Pick<UseChannelResult<M, S>, 'status' | 'error' | 'channel' | 'messages'>,
  b: Pick<UseChannelResult<M, S>, 'status' | 'error' | 'channel' | 'messages'>,
): boolean {
  return a.status === b.status && a.error === b.error && a.channel === b.channel && shallow(a.messages, b.messages);
}

/**
 * The other participants of channel `name` (me excluded: read mine with {@link useMyState}), as immutable
 * {@link ParticipantView}s in join order. Without a selector the array keeps its identity until membership
 * or someone's state changes. With `selector` (and `isEqual`, shallow by default) the component re-renders
 * only when the selection changes, e.g. `useParticipants('room', (ps) => ps.map((p) => p.id))` only on
 * membership. Holds the channel (joins with presence) while mounted.
 */
export function useParticipants<S = unknown, T = readonly ParticipantView<S>[]>(
  name: string,
  selector?: (participants: readonly ParticipantView<S>[]) => T,
  isEqual: (a: T, b: T) => boolean = shallow,
): T {
  const entry = useChannelEntry('useParticipants()', name, true);
  const select = useCallback(
    (s: Snap<Payload, S>) => (selector ? selector(s.participants) : (s.participants as unknown as T)),
    [selector],
  );
  return useStoreSelector(storeOf<Payload, S>(entry), select, isEqual);
}

/**
 * The state of one participant of channel `name`, by endpoint address (`identity/device/route`) or, for
 * convenience, by identity (the first endpoint of that identity). Re-renders only when that participant's
 * state changes. `undefined` while unknown or stateless.
 */
export function useParticipantState<S = unknown>(name: string, participantId: string): S | undefined {
  const entry = useChannelEntry('useParticipantState()', name, true);
  const select = useCallback(
    (s: Snap<Payload, S>) => {
      const v = s.byId.get(participantId);
      if (v || participantId.includes('/')) return v?.state;
      return s.participants.find((p) => p.identity === participantId)?.state;
    },
    [participantId],
  );
  return useStoreSelector(storeOf<Payload, S>(entry), select);
}

/**
 * One participant of channel `name` as a {@link ParticipantView} (by endpoint address), or `undefined`.
 * Re-renders only when that participant joins, leaves or changes state.
 */
export function useParticipant<S = unknown>(name: string, participantId: string): ParticipantView<S> | undefined {
  const entry = useChannelEntry('useParticipant()', name, true);
  const select = useCallback((s: Snap<Payload, S>) => s.byId.get(participantId), [participantId]);
  return useStoreSelector(storeOf<Payload, S>(entry), select);
}

/** Options of {@link useMyState}. */
export interface UseMyStateOptions {
  /**
   * Send at most one update per this many ms (the first at once, the latest one at the end of the window;
   * the returned state updates at once). E.g. `50` turns 60 Hz cursor moves into ≤ 20 Hz. @default 0 (no throttling)
   */
  throttle?: number;
}

/** A state setter: the new state, or a function of the current one. */
export type SetMyState<S> = (next: S | ((prev: S | undefined) => S)) => void;

/**
 * My state in channel `name`: `[state, setState]`. The state is replaced whole (last writer wins), shared with
 * every other participant, and restored by the client after a reconnect. Holds the channel while mounted.
 */
export function useMyState<S = unknown>(name: string, options: UseMyStateOptions = {}): [S | undefined, SetMyState<S>] {
  const entry = useChannelEntry('useMyState()', name, true);
  const store = storeOf<Payload, S>(entry);
  const state = useStoreSelector(store, selectMyState as (s: Snap<Payload, S>) => S | undefined);
  const throttle = options.throttle ?? 0;
  const t = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | undefined; pending: { v: S } | null }>({
    last: 0,
    timer: undefined,
    pending: null,
  });
  useEffect(() => {
    const cur = t.current;
    return () => {
      // Unmounting with an update held back: send it now rather than lose it.
      if (cur.timer !== undefined) clearTimeout(cur.timer);
      cur.timer = undefined;
      const p = cur.pending;
      cur.pending = null;
      if (p) entry.setMyState(p.v);
    };
  }, [entry]);
  const setState = useCallback<SetMyState<S>>(
    (next) => {
      const prev = store.getState().myState;
      const value = typeof next === 'function' ? (next as (p: S | undefined) => S)(prev) : next;
      const cur = t.current;
      const now = Date.now();
      if (throttle <= 0 || (cur.timer === undefined && now - cur.last >= throttle)) {
        cur.last = now;
        entry.setMyState(value);
        return;
      }
      cur.pending = { v: value };
      store.setState({ myState: value }); // show it at once; the wire gets it at the end of the window
      if (cur.timer === undefined) {
        cur.timer = setTimeout(() => {
          cur.timer = undefined;
          const p = cur.pending;
          cur.pending = null;
          if (!p) return;
          cur.last = Date.now();
          entry.setMyState(p.v);
        }, Math.max(0, throttle - (now - cur.last)));
      }
    },
    [entry, store, throttle],
  );
  return [state, setState];
}

function selectMyState(s: Snap<Payload, unknown>): unknown {
  return s.myState;
}

/** @internal My state in channel `name`, read-only (no setter, so none of the throttle code): for the components. */
export function useMyStateValue<S = unknown>(name: string): S | undefined {
  return useStoreSelector(storeOf<Payload, S>(useChannelEntry('useMyState()', name, true)), selectMyState as (s: Snap<Payload, S>) => S | undefined);
}

/** Options of {@link useTyping}. */
export interface UseTypingOptions {
  /** How long (ms) the others show me typing after my last typing frame; sent in the frame. @default 5000 */
  timeout?: number;
  /** At most one "still typing" frame per this many ms, however fast keys come. @default timeout / 2 */
  interval?: number;
}

/** Result of {@link useTyping}. */
export interface UseTyping<S> {
  /** The other participants typing now (join order); a new array only when that set (or a typist's state) changes. */
  typing: readonly ParticipantView<S>[];
  /** Call on every keystroke: sends a typing frame at most once per `interval`. */
  notifyTyping: () => void;
  /** Call when the text was sent or cleared: tells the others at once. */
  stopTyping: () => void;
}

/**
 * Who is typing in channel `name`, and the calls to announce my own typing. Typing travels in a small
 * channel frame `signal.publish {id, $typing: ttlMs}` (`0` = stopped), not in participant state, so it
 * never disturbs anyone's state nor the message list (the hooks filter it out). A typist disappears by itself
 * `ttlMs` after their last frame, when they send a message, or when they leave.
 */
export function useTyping<S = unknown>(name: string, options: UseTypingOptions = {}): UseTyping<S> {
  const entry = useChannelEntry('useTyping()', name, true);
  const timeout = options.timeout ?? 5000;
  const interval = options.interval ?? timeout / 2;
  const typing = useStoreSelector(storeOf<Payload, S>(entry), selectTyping as (s: Snap<Payload, S>) => readonly ParticipantView<S>[], shallow);
  const notifyTyping = useCallback(() => entry.notifyTyping(timeout, interval), [entry, timeout, interval]);
  const stopTyping = useCallback(() => entry.stopTyping(), [entry]);
  return { typing, notifyTyping, stopTyping };
}

function selectTyping(s: Snap<Payload, unknown>): readonly ParticipantView[] {
  const out: ParticipantView[] = [];
  for (const id of s.typing) {
    const v = s.byId.get(id);
    if (v) out.push(v);
  }
  return out;
}

/** My identity (from the provider's token), once the client exists. */
export function useIdentity(): string | undefined {
  return useStoreSelector(useHub('useIdentity()').connection, (s) => s.identity);
}
