/**
 * A channel as one node holds it: its local members and the roster of presence members on every node, and the
 * fan-out of one encoded frame to the local members. Shared by channels (join, leave, publish) and roster sync.
 */
import type { Limits } from '../protocol/constants.js';
import type { OutFrame, Session } from './session.js';

export interface LocalChannel {
  name: string;
  /** Local members (presence or not), by address. */
  members: Map<string, Session>;
  /** Every presence member on every node -> last state (`undefined`: none). */
  roster: Map<string, unknown>;
  /** Resolves once subscribed and the roster is loaded. */
  ready: Promise<void>;
}

/** The channels this node holds, by name. */
export type LocalChannels = Map<string, LocalChannel>;

/** Write one frame (encoded once) to every local member but `except`. */
export function fanOut(c: LocalChannel, frame: OutFrame, except: Session | null, limits: Limits): void {
  for (const m of c.members.values()) if (m !== except) m.write(frame, limits);
}
