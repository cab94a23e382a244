'use client';
import { useEffect, useMemo, useRef, useSyncExternalStore } from './react.js';
import type { StoreApi } from 'zustand/vanilla';

/**
 * Read a slice of a zustand vanilla store: `useSyncExternalStore` over `selector(store.getState())`,
 * keeping the previous selection while `isEqual` says it did not change, so the component re-renders
 * only when its selection changed. The same function serves as the server snapshot.
 */
export function useStoreSelector<T, U>(
  store: StoreApi<T>,
  selector: (state: T) => U,
  isEqual: (a: U, b: U) => boolean = Object.is,
): U {
  const last = useRef<{ has: boolean; value: U | undefined }>({ has: false, value: undefined });
  const getSelection = useMemo(() => {
    let has = false;
    let memoState: T;
    let memoSel: U;
    return (): U => {
      const state = store.getState();
      if (has && Object.is(memoState, state)) return memoSel;
      const next = selector(state);
      has = true;
      memoState = state;
      const prev = last.current;
      memoSel = prev.has && isEqual(prev.value as U, next) ? (prev.value as U) : next;
      return memoSel;
    };
  }, [store, selector, isEqual]);
  const value = useSyncExternalStore(store.subscribe, getSelection, getSelection);
  useEffect(() => {
    last.current = { has: true, value };
  });
  return value;
}
