'use client';
import { useCallback } from './react.js';
import type { Payload } from '../client/index.js';
import type { ParticipantView } from './channel-store.js';
import { sameItems, shallow } from './shallow.js';
import { useChannelEntry, useEntrySelector, type Snap } from './use-channel-entry.js';

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
  return useEntrySelector(entry, select, isEqual);
}

const selectIds = (s: Snap<Payload, unknown>): string[] => s.participants.map((p) => p.id);

/**
 * @internal The endpoint addresses of channel `name`'s other participants in join order: `useParticipants(name,
 * (ps) => ps.map((p) => p.id))` without the generic selector code, for the components. Re-renders on membership only.
 */
export function useParticipantIds(name: string): readonly string[] {
  return useEntrySelector(useChannelEntry('useParticipants()', name, true), selectIds, sameItems);
}
