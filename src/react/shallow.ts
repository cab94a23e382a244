/** Entries of a value compared by {@link shallow}: a Map's (or any iterable with `entries()`), an iterable's by index, an object's own. */
function entriesOf(v: object): Map<unknown, unknown> {
  return new Map(
    Symbol.iterator in v
      ? 'entries' in v
        ? (v as { entries(): Iterable<[unknown, unknown]> }).entries()
        : [...(v as Iterable<unknown>)].entries()
      : Object.entries(v),
  );
}

/**
 * Shallow equality with zustand's `shallow` semantics (same prototype; Maps, Sets and arrays by entries,
 * other iterables in order, plain objects by own keys; values by `Object.is`), in fewer bytes.
 */
export function shallow<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || !a || typeof b !== 'object' || !b || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const x = entriesOf(a);
  const y = entriesOf(b);
  if (x.size !== y.size) return false;
  for (const [k, v] of x) if (!y.has(k) || !Object.is(v, y.get(k))) return false;
  return true;
}

/** `shallow` for two arrays, in fewer bytes: same length and the same items (`Object.is`) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}
