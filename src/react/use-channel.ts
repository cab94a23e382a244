'use client';
import { useCallback, useEffect, useRef } from './react.js';
import type { Channel, ChannelStatus, Participant, Payload, SignalError, SignalMessage } from '../client/index.js';
import { lastOf } from './bounded.js';
import { shallow } from './shallow.js';
import { useChannelEntry, useEntrySelector, type Snap } from './use-channel-entry.js';

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
    return entry.on('message', (msg, p) => onMessage.current?.(msg as SignalMessage<M>, p as unknown as Participant<S, M>));
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
  const sel = useEntrySelector(entry, select, sameChannelSelection);
  const publish = useCallback((payload: M) => entry.publish(payload as Payload), [entry]);
  return { ...sel, publish };
}

function sameChannelSelection<M extends object, S>(
  a: Pick<UseChannelResult<M, S>, 'status' | 'error' | 'channel' | 'messages'>,
  b: Pick<UseChannelResult<M, S>, 'status' | 'error' | 'channel' | 'messages'>,
): boolean {
  return a.status === b.status && a.error === b.error && a.channel === b.channel && shallow(a.messages, b.messages);
}
