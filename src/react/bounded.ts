/** @internal `list` plus `item` at the end, keeping the last `max` (a new array). */
export function appendBounded<T>(list: readonly T[], item: T, max: number): T[] {
  const next = list.slice(Math.max(0, list.length - max + 1));
  next.push(item);
  return next;
}

/** @internal The last `limit` items of `list` (`list` itself when it has no more). */
export function lastOf<T>(list: readonly T[], limit: number | undefined): readonly T[] {
  return limit !== undefined && list.length > limit ? list.slice(list.length - Math.max(0, limit)) : list;
}
