'use client';
import { useCallback } from './react.js';
import type { Payload, SignalMessage } from '../client/index.js';
import { lastOf } from './bounded.js';
import { useHub } from './context.js';
import { shallow } from './shallow.js';
import { useStoreSelector } from './use-store.js';

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
