/**
 * Roster reconciliation, pure (in the manner of Phoenix's `syncState`/`syncDiff`): given the roster a node holds
 * for a channel, the roster it just read from the broker, and what happened locally while the read was in flight,
 * what to announce to the local members. No sockets, no broker: `roster-sync.ts` applies the result.
 *
 * Rules, from newest knowledge to oldest:
 * - a member `touched` while the read was in flight (a join, leave or state that arrived meanwhile) is newer than
 *   the read: left as held;
 * - a member held by this node (`local`) is known here first-hand: never announced from a read;
 * - an `unsure` member (the broker cannot tell for now) is never announced: kept if held (no leave), not added
 *   otherwise (no join);
 * - any other held member missing from the read left; any other member read but not held joined; a held member
 *   whose state (compared as JSON) differs took the read's state. A `late` state (published meanwhile by a member
 *   not held yet) is newer than the read's.
 */

/** What happened locally while a roster was being read. */
export interface Meanwhile {
  /** Members that joined, left or changed state meanwhile. */
  touched: ReadonlySet<string>;
  /** Members the broker could not tell about (absent from the read). */
  unsure: ReadonlySet<string>;
  /** Members held by this node (its own connections). */
  local: { has(address: string): boolean };
  /** States published meanwhile by members the roster did not hold yet. */
  late?: ReadonlyMap<string, unknown>;
}

/** What to change and announce. Applied in this order: leaves, then `changes` in order. */
export interface RosterDiff {
  /** Held members that left: remove each and announce a leave. In the held roster's order. */
  leaves: string[];
  /**
   * Members to set, with their new state (`undefined`: none), in the read's order: a join first for those in
   * `joins`, then a state announcement when the state is not `undefined`.
   */
  changes: Map<string, unknown>;
  /** The members of `changes` not held before: announced with a join. */
  joins: Set<string>;
}

/** Reconcile the held roster `local` (address -> state) with the `fresh` read. Reads its arguments only. */
export function reconcile(local: ReadonlyMap<string, unknown>, fresh: ReadonlyMap<string, unknown>, m: Meanwhile): RosterDiff {
  const { touched, unsure, late } = m;
  const leaves: string[] = [];
  for (const addr of local.keys()) {
    if (!fresh.has(addr) && !touched.has(addr) && !unsure.has(addr) && !m.local.has(addr)) leaves.push(addr);
  }
  const changes = new Map<string, unknown>();
  const joins = new Set<string>();
  for (const [addr, read] of fresh) {
    if (touched.has(addr) || unsure.has(addr) || m.local.has(addr)) continue;
    const state = late !== undefined && late.has(addr) ? late.get(addr) : read;
    const known = local.has(addr);
    if (known && JSON.stringify(local.get(addr)) === JSON.stringify(state)) continue;
    changes.set(addr, state);
    if (!known) joins.add(addr);
  }
  return { leaves, changes, joins };
}

