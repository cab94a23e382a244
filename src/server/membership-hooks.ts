/**
 * What the core tells an observer about channel membership (webhooks use it): every join and leave of an endpoint,
 * state updates, and why a connection went. Optional: without one the core pays nothing. Calls never throw into the
 * core (an observer catches its own errors).
 */
import type { Session } from './session.js';

export interface MembershipHooks {
  /** `s` joined `channel` (presence or not). `replaced`: the endpoint address `s` replaced (`replaces`), if any. */
  joined(s: Session, channel: string, replaced: string | undefined): void;
  /** `s` left `channel` (its leave, a refused rejoin, or its disconnect: then `s.closed` is true). */
  left(s: Session, channel: string): void;
  /** `s` set its presence state in `channel`. */
  state(s: Session, channel: string, state: unknown): void;
  /** `s` is about to be closed because a newer connection of its device replaced it (its leaves follow). */
  replaced(s: Session): void;
}
