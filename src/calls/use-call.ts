'use client';
import { useEffect, useMemo, useState, useSyncExternalStore } from '../react/react.js';
import { useSignal } from '../react/use-connection-state.js';
import { createCallSession, IDLE_SNAPSHOT, type CallSession, type CallOptions, type CallSnapshot } from './call-session.js';
import type { CallMedia } from './media.js';

/** What {@link useCall} returns: the call's state (render it directly) and its actions. */
export interface UseCall extends CallSnapshot {
  /**
   * Call `to`: an identity (every device rings), `identity/device`, or an exact endpoint. While `to` is ringing me,
   * this accepts their call (both called each other: one call). Throws while in another call.
   */
  start: (to: string, options?: { media?: CallMedia; data?: boolean }) => void;
  /** Answer the ringing call. */
  accept: (options?: { media?: CallMedia }) => void;
  /** Refuse the ringing call (`'busy'` ends it as busy on the caller's side). */
  decline: (reason?: string) => void;
  /** Cancel, decline or hang up, whichever applies. */
  hangUp: () => void;
  /** Back to `idle` after `ended`. */
  reset: () => void;
}

const notReady = (): never => {
  throw new Error('useCall: no client yet');
};
/** The hook's session until the client exists: idle, and every action throws. */
const NONE: Omit<CallSession, 'options' | 'dispose'> = {
  subscribe: () => () => {},
  getSnapshot: () => IDLE_SNAPSHOT,
  start: notReady,
  accept: notReady,
  decline: notReady,
  hangUp: notReady,
  reset: notReady,
};

/**
 * One call at a time over the provider's connection: `idle → outgoing | incoming → connecting → connected → ended`.
 * Every device of the callee rings; the first to accept wins (the others end with `answered-elsewhere`); the peer
 * leaving the call's channel ends it with `peer-gone`. A call in progress is hung up when the component unmounts.
 *
 * @example
 * const call = useCall({ iceServers: [{ urls: 'stun:stun.example.org' }] });
 * call.status === 'incoming' ? <IncomingCall call={call} /> : <button onClick={() => call.start('bob')}>Call Bob</button>
 */
export function useCall(options: CallOptions = {}): UseCall {
  const signal = useSignal();
  const [session, setSession] = useState<CallSession | null>(null);
  useEffect(() => {
    if (!signal) return;
    // The options of this render; the next effect keeps them current.
    const s = createCallSession(signal, options);
    setSession(s);
    return () => s.dispose();
  }, [signal]);
  useEffect(() => {
    if (session) session.options = options;
  });
  const s = session ?? NONE;
  const snap = useSyncExternalStore(s.subscribe, s.getSnapshot, NONE.getSnapshot);
  // The session's methods use no `this`: they are handed out as they are.
  const { start, accept, decline, hangUp, reset } = s;
  return useMemo(() => ({ ...snap, start, accept, decline, hangUp, reset }), [snap, s]);
}
