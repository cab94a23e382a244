'use client';
import { useEffect } from './react.js';
import type { StoreApi } from 'zustand/vanilla';
import type { ChannelEntry } from './channel-entry.js';
import type { ChannelSnapshot } from './channel-store.js';
import { useHub } from './context.js';
import { useStoreSelector } from './use-store.js';

/** @internal A channel snapshot with the hook's payload and state types. */
export type Snap<M extends object, S> = ChannelSnapshot<M, S>;

/** @internal Hold channel `name` while the component is mounted (reference counted). */
export function useChannelEntry(hook: string, name: string, presence: boolean): ChannelEntry {
  const hub = useHub(hook);
  const entry = hub.entry(name);
  useEffect(() => hub.hold(entry, presence), [hub, entry, presence]);
  return entry;
}

/** @internal `useStoreSelector` on a held entry's store, typed for the hook's payload and state. */
export function useEntrySelector<M extends object, S, U>(
  entry: ChannelEntry,
  selector: (s: Snap<M, S>) => U,
  isEqual?: (a: U, b: U) => boolean,
): U {
  return useStoreSelector(entry.store as unknown as StoreApi<Snap<M, S>>, selector, isEqual);
}
