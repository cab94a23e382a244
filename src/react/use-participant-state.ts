'use client';
import { useCallback } from './react.js';
import type { Payload } from '../client/index.js';
import type { ParticipantView } from './channel-store.js';
import { useChannelEntry, useEntrySelector, type Snap } from './use-channel-entry.js';

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
  return useEntrySelector(entry, select);
}

/**
 * One participant of channel `name` as a {@link ParticipantView} (by endpoint address), or `undefined`.
 * Re-renders only when that participant joins, leaves or changes state.
 */
export function useParticipant<S = unknown>(name: string, participantId: string): ParticipantView<S> | undefined {
  const entry = useChannelEntry('useParticipant()', name, true);
  const select = useCallback((s: Snap<Payload, S>) => s.byId.get(participantId), [participantId]);
  return useEntrySelector(entry, select);
}
