/**
 * Typing frames (PROTOCOL.md, "Typing frames"): an ordinary channel publish `signal.publish {id, $typing: ms}` that
 * asks the others to show the sender typing for `ms` (0: stopped). An old SDK client sees a plain channel message
 * with an extra field. Our client's `Channel` sorts these out of its messages and emits `typing` instead.
 */

/** The payload key of a typing frame. */
export const TYPING_KEY = '$typing';
/** How long the others show me typing after one frame, in ms (sent in the frame). */
export const TYPING_MS = 5_000;
/** Longest time one typing frame may keep someone typing, whatever the sender asked, in ms (receivers cap it). */
export const MAX_TYPING_MS = 30_000;

/**
 * The typing time a received payload asks for, capped at {@link MAX_TYPING_MS} (0: stopped), when it is a typing
 * frame: `$typing` is a number and it is a publish (no `to`; a direct message is never a typing frame). Else `undefined`.
 */
export function typingMs(params: Record<string, unknown>): number | undefined {
  const ms = params[TYPING_KEY];
  if (typeof ms !== 'number' || params.to !== undefined) return undefined;
  return ms > 0 ? Math.min(ms, MAX_TYPING_MS) : 0;
}
