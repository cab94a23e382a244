/** A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `text` is well-formed UTF-16 (no lone surrogate). A name that is not has no UTF-8 form: every lone
 * surrogate becomes U+FFFD on the way to Redis or any other UTF-8 store, so `room\ud800` and `room\udfff` would
 * alias. Identities, devices, channel names and addresses must be well-formed.
 */
export function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return typeof native === 'function' ? native.call(text) : !LONE_SURROGATE.test(text);
}
