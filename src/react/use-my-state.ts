'use client';
import { useCallback, useEffect, useMemo } from './react.js';
import type { Payload } from '../client/index.js';
import { throttle } from './throttle.js';
import { useChannelEntry, useEntrySelector, type Snap } from './use-channel-entry.js';

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

function selectMyState(s: Snap<Payload, unknown>): unknown {
  return s.myState;
}

/**
 * My state in channel `name`: `[state, setState]`. The state is replaced whole (last writer wins), shared with
 * every other participant, and restored by the client after a reconnect. Holds the channel while mounted.
 */
export function useMyState<S = unknown>(name: string, options: UseMyStateOptions = {}): [S | undefined, SetMyState<S>] {
  const entry = useChannelEntry('useMyState()', name, true);
  const store = entry.store;
  const state = useEntrySelector(entry, selectMyState as (s: Snap<Payload, S>) => S | undefined);
  const ms = options.throttle ?? 0;
  const out = useMemo(() => throttle<S>((value) => entry.setMyState(value)), [entry]);
  // Unmounting with an update held back: send it now rather than lose it.
  useEffect(() => out.flush, [out]);
  const setState = useCallback<SetMyState<S>>(
    (next) => {
      const value = typeof next === 'function' ? (next as (p: S | undefined) => S)(store.getState().myState as S | undefined) : next;
      // Held for the end of the window: show it at once all the same.
      if (!out.push(value, ms)) store.setState({ myState: value });
    },
    [store, out, ms],
  );
  return [state, setState];
}

/** @internal My state in channel `name`, read-only (no setter, so none of the throttle code): for the components. */
export function useMyStateValue<S = unknown>(name: string): S | undefined {
  return useEntrySelector(useChannelEntry('useMyState()', name, true), selectMyState as (s: Snap<Payload, S>) => S | undefined);
}
