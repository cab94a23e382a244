import type { StoreApi } from 'zustand/vanilla';
import type { Channel, Payload } from '../client/index.js';
import { MAX_TYPING_MS, TYPING_KEY } from '../client/typing.js';
import { throttle } from './throttle.js';

// Typing in the React layer: who types (the `typing` list of a channel store, with one expiry timer per typist)
// and my own typing frames (throttled). The client's Channel sorts typing frames out of its messages and emits
// `typing(from, ms)` (the key and its timing live in protocol/typing.ts); channel-binding.ts passes that event here.

export { TYPING_KEY } from '../client/typing.js';

/**
 * The typing of one channel: who types (the `typing` list of its store, each typist dropped by a timer) and my own
 * typing frames (at most one per interval however fast keys come; a stop frame only while one is in force).
 */
export interface TypingStore {
  /** A typing frame: `from` types for the next `ms` ms (capped at 30 s); `0` (or a non-member) means stopped. */
  typing(from: string, ms: number): void;
  /** `from` is not typing any more (they sent a message, or left). */
  remove(from: string): void;
  /** Stop every timer (the channel is unbound; the store's list is emptied with the rest of the roster). */
  clear(): void;
  /** I typed: send "typing for `ttl` ms" unless a frame went out less than `interval` ms ago (only while joined). */
  notify(ttl: number, interval: number, now?: number): void;
  /** I stopped (sent or cleared the text): a stop frame when my last one is still in force. */
  stop(now?: number): void;
  /** Forget what I sent (the channel was left). */
  reset(): void;
}

/**
 * The {@link TypingStore} of a channel store; `channel()` is the client's Channel bound to it now, if any. Its functions
 * do not use `this` (channel-binding.ts passes `typing` as a listener).
 */
export function typingStore(store: StoreApi<{ readonly typing: readonly string[] }>, channel: () => Channel<Payload, unknown> | null): TypingStore {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const stopTimer = (from: string): void => {
    clearTimeout(timers.get(from));
    timers.delete(from);
  };
  const remove = (from: string): void => {
    stopTimer(from);
    const typing = store.getState().typing;
    if (typing.includes(from)) store.setState({ typing: typing.filter((id) => id !== from) });
  };
  const joined = (): boolean => channel()?.status === 'joined';
  const send = (ms: number): void => {
    if (joined()) channel()!.publish({ [TYPING_KEY]: ms });
  };
  let ttl = 0;
  const out = throttle<number>((ms) => {
    ttl = ms;
    send(ms);
  });
  return {
    typing(from, ms) {
      stopTimer(from);
      if (!(ms > 0) || !channel()?.participants.has(from)) return remove(from);
      timers.set(from, setTimeout(remove, Math.min(ms, MAX_TYPING_MS), from));
      const typing = store.getState().typing;
      if (!typing.includes(from)) store.setState({ typing: [...typing, from] });
    },
    remove,
    clear() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
    notify(ms, interval, now) {
      if (joined()) out.push(ms, interval, false, now);
    },
    stop(now = Date.now()) {
      const last = out.last();
      out.reset();
      if (last !== 0 && now - last < ttl) send(0);
    },
    reset: out.reset,
  };
}
