'use client';
import { useCallback } from './react.js';
import type { Payload } from '../client/index.js';
import type { ParticipantView } from './channel-store.js';
import { sameItems, shallow } from './shallow.js';
import type { ChannelEntry } from './channel-entry.js';
import { useChannelEntry, useEntrySelector, type Snap } from './use-channel-entry.js';

/** Options of {@link useTyping}. */
export interface UseTypingOptions {
  /** How long (ms) the others show me typing after my last typing frame; sent in the frame. @default 5000 */
  timeout?: number;
  /** At most one "still typing" frame per this many ms, however fast keys come. @default timeout / 2 */
  interval?: number;
}

/** Result of {@link useTyping}. */
export interface UseTyping<S> {
  /** The other participants typing now (join order); a new array only when that set (or a typist's state) changes. */
  typing: readonly ParticipantView<S>[];
  /** Call on every keystroke: sends a typing frame at most once per `interval`. */
  notifyTyping: () => void;
  /** Call when the text was sent or cleared: tells the others at once. */
  stopTyping: () => void;
}

function selectTyping(s: Snap<Payload, unknown>): readonly ParticipantView[] {
  const out: ParticipantView[] = [];
  for (const id of s.typing) {
    const v = s.byId.get(id);
    if (v) out.push(v);
  }
  return out;
}

type Views<S> = readonly ParticipantView<S>[];

/** The typists of a held channel entry: a new array only when that set (or a typist's state) changes. */
function useTypistsOf<S>(entry: ChannelEntry, isEqual: (a: Views<S>, b: Views<S>) => boolean): Views<S> {
  return useEntrySelector(entry, selectTyping as (s: Snap<Payload, S>) => Views<S>, isEqual);
}

/**
 * @internal Who is typing in channel `name`: `useTyping(name).typing` without the sending half and with the
 * array-only `sameItems` (same result as `shallow` on arrays), so the components bundle needs neither.
 */
export function useTypists<S = unknown>(name: string): Views<S> {
  return useTypistsOf<S>(useChannelEntry('useTyping()', name, true), sameItems);
}

/**
 * Who is typing in channel `name`, and the calls to announce my own typing. Typing travels in a small
 * channel frame `signal.publish {id, $typing: ttlMs}` (`0` = stopped), not in participant state, so it
 * never disturbs anyone's state nor the message list (the hooks filter it out). A typist disappears by itself
 * `ttlMs` after their last frame, when they send a message, or when they leave.
 */
export function useTyping<S = unknown>(name: string, options: UseTypingOptions = {}): UseTyping<S> {
  const entry = useChannelEntry('useTyping()', name, true);
  const timeout = options.timeout ?? 5000;
  const interval = options.interval ?? timeout / 2;
  const typing = useTypistsOf<S>(entry, shallow);
  const notifyTyping = useCallback(() => entry.typing.notify(timeout, interval), [entry, timeout, interval]);
  const stopTyping = useCallback(() => entry.typing.stop(), [entry]);
  return { typing, notifyTyping, stopTyping };
}
