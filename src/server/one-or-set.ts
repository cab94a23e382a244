/**
 * The one-item-or-set pattern: a Map whose value is the key's one item, or a Set of its items once it has several.
 * Most keys have one item (an identity with one connection, a topic with one subscribing node), and a Set per key
 * would cost an object each. Readers branch on `instanceof Set` inline (hot paths take no callback); an item must
 * not itself be a Set.
 */

/** One item, or a Set of two or more. */
export type OneOrSet<T> = T | Set<T>;

/**
 * Add `item` under `key` (adding an item already there changes nothing). `true` when the key was absent, i.e.
 * `item` is its first one.
 */
export function addItem<K, T>(map: Map<K, OneOrSet<T>>, key: K, item: T): boolean {
  const cur = map.get(key);
  if (cur === undefined) {
    map.set(key, item);
    return true;
  }
  if (cur instanceof Set) cur.add(item);
  else if (cur !== item) map.set(key, new Set([cur, item]));
  return false;
}

/**
 * Remove `item` from `key`; a Set left with one item gives way to that item alone. `true` when the key is gone
 * now, i.e. `item` was its last one.
 */
export function removeItem<K, T>(map: Map<K, OneOrSet<T>>, key: K, item: T): boolean {
  const cur = map.get(key);
  if (cur === undefined) return false;
  if (cur instanceof Set) {
    if (!cur.delete(item) || cur.size > 1) return false;
    const [last] = cur;
    if (last !== undefined) {
      map.set(key, last);
      return false;
    }
  } else if (cur !== item) return false;
  map.delete(key);
  return true;
}

/** How many items `key` has. */
export function itemCount<K, T>(map: ReadonlyMap<K, OneOrSet<T>>, key: K): number {
  const cur = map.get(key);
  return cur === undefined ? 0 : cur instanceof Set ? cur.size : 1;
}
