/**
 * Membership transitions for webhooks: which join or leave of an endpoint is the first of its identity in a channel
 * (`member.joined`), the last (`member.left`), the first of anyone (`channel.occupied`) or the last
 * (`channel.vacated`). The {@link WebhookTracker} is the core's {@link MembershipHooks}: it turns joins and leaves of
 * sessions into store operations; a {@link TransitionStore} counts across every node (this file's memory store for
 * nodes on one `MemoryBroker`, redis-transitions.ts across processes) and reports each transition exactly once, on the
 * node whose operation caused it.
 *
 * `replaces`: the leave of an endpoint that a newer connection of its device replaced is held for `replaceGraceMs`;
 * a join of the replacing endpoint to the same channel takes the held entry over (no count passes through 0, so no
 * left/joined pair); an entry nobody takes over leaves with reason `replaced` when the grace ends.
 */
import type { MembershipHooks } from '../membership-hooks.js';
import type { Session } from '../session.js';
import { toEvent, type LeaveReason, type Transition, type TransitionSink, type WebhookEvent } from './events.js';

/** One endpoint's membership of one channel. */
export interface Entry {
  channel: string;
  identity: string;
  endpoint: string;
}

/** Counts membership across every node and reports each transition once, to the node that caused it. */
export interface TransitionStore {
  /** Start counting for node `nodeId`; transitions caused by this node go to `sink`, in order. */
  start(nodeId: string, sink: TransitionSink): Promise<void>;
  /** `e` joined. With `replaced` (an endpoint of the same identity and device) its entry is taken over if still counted. */
  join(e: Entry, replaced?: string): void;
  /** `e` left (a no-op if it was taken over or reaped already). */
  leave(e: Entry, reason: LeaveReason): void;
  /** `e` was replaced: keep it counted for `graceMs`, then {@link leave} with reason `replaced`. */
  hold(e: Entry, graceMs: number): void;
  /** Stop: held entries leave now; waits (bounded) for operations in flight. */
  close(): Promise<void>;
}

/** Options of the tracker. */
export interface TrackerOptions {
  /** Emit `member.state`. */
  state: boolean;
  /** How long a replaced endpoint's membership waits for the replacing endpoint to rejoin. */
  replaceGraceMs: number;
}

/** The core's membership hooks for webhooks: one per node. */
export class WebhookTracker implements MembershipHooks {
  /** Channels each session is counted in (what the store was told). */
  private readonly counted = new WeakMap<Session, Set<string>>();
  private readonly replacedSessions = new WeakSet<Session>();

  constructor(
    private readonly store: TransitionStore,
    private readonly opts: TrackerOptions,
    /** Where `member.state` events go (membership events come from the store's sink). */
    private readonly emit: (events: WebhookEvent[]) => void,
  ) {}

  joined(s: Session, channel: string, replaced: string | undefined): void {
    let set = this.counted.get(s);
    if (set?.has(channel)) return;
    if (!set) this.counted.set(s, (set = new Set()));
    set.add(channel);
    this.store.join({ channel, identity: s.identity, endpoint: s.address }, replaced);
  }

  left(s: Session, channel: string): void {
    const set = this.counted.get(s);
    if (!set?.delete(channel)) return;
    if (set.size === 0) this.counted.delete(s);
    const e = { channel, identity: s.identity, endpoint: s.address };
    if (this.replacedSessions.has(s)) this.store.hold(e, this.opts.replaceGraceMs);
    else this.store.leave(e, s.closed ? 'disconnected' : 'left');
  }

  state(s: Session, channel: string, state: unknown): void {
    if (!this.opts.state) return;
    this.emit([toEvent({ type: 'member.state', channel, identity: s.identity, endpoint: s.address, state })]);
  }

  replaced(s: Session): void {
    this.replacedSessions.add(s);
  }
}

/** The key of an entry (injective: JSON of the pair). */
export const entryKey = (channel: string, endpoint: string): string => JSON.stringify([channel, endpoint]);

/** The counts of every node on one `MemoryBroker`: one per broker, shared by its nodes. */
export class MemoryCounts {
  /** channel -> identity -> endpoints counted. */
  private readonly counts = new Map<string, Map<string, number>>();
  /** entry key -> the node that holds it. */
  private readonly entries = new Map<string, string>();
  private seq = 0;

  join(node: string, e: Entry, replaced: string | undefined): Transition[] {
    const key = entryKey(e.channel, e.endpoint);
    if (this.entries.has(key)) return [];
    this.entries.set(key, node);
    if (replaced !== undefined && this.entries.delete(entryKey(e.channel, replaced))) return []; // taken over
    let ids = this.counts.get(e.channel);
    const out: Transition[] = [];
    if (!ids) {
      this.counts.set(e.channel, (ids = new Map()));
      out.push({ type: 'channel.occupied', ...e, seq: ++this.seq });
    }
    const n = (ids.get(e.identity) ?? 0) + 1;
    ids.set(e.identity, n);
    if (n === 1) out.push({ type: 'member.joined', ...e, seq: ++this.seq });
    return out;
  }

  leave(e: Entry, reason: LeaveReason): Transition[] {
    if (!this.entries.delete(entryKey(e.channel, e.endpoint))) return [];
    const ids = this.counts.get(e.channel);
    const n = (ids?.get(e.identity) ?? 1) - 1;
    if (!ids || n > 0) {
      ids?.set(e.identity, n);
      return [];
    }
    ids.delete(e.identity);
    const out: Transition[] = [{ type: 'member.left', ...e, seq: ++this.seq, reason }];
    if (ids.size === 0) {
      this.counts.delete(e.channel);
      out.push({ type: 'channel.vacated', ...e, seq: ++this.seq, reason });
    }
    return out;
  }
}

const shared = new WeakMap<object, MemoryCounts>();

/** The counts shared by the nodes of `broker` (a `MemoryBroker`, or any object standing for one process's nodes). */
export function memoryCountsOf(broker: object): MemoryCounts {
  let c = shared.get(broker);
  if (!c) shared.set(broker, (c = new MemoryCounts()));
  return c;
}

/** A node's store over {@link MemoryCounts}: synchronous, so transitions are reported at once and in order. */
export class MemoryTransitionStore implements TransitionStore {
  private node = '';
  private sink: TransitionSink = () => {};
  private readonly held = new Map<string, { e: Entry; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly counts: MemoryCounts) {}

  async start(nodeId: string, sink: TransitionSink): Promise<void> {
    this.node = nodeId;
    this.sink = sink;
  }

  join(e: Entry, replaced?: string): void {
    this.report(this.counts.join(this.node, e, replaced));
  }

  leave(e: Entry, reason: LeaveReason): void {
    const key = entryKey(e.channel, e.endpoint);
    const h = this.held.get(key);
    if (h) {
      clearTimeout(h.timer);
      this.held.delete(key);
    }
    this.report(this.counts.leave(e, reason));
  }

  hold(e: Entry, graceMs: number): void {
    const key = entryKey(e.channel, e.endpoint);
    if (this.held.has(key)) return;
    const timer = setTimeout(() => this.leave(e, 'replaced'), graceMs);
    (timer as { unref?: () => void }).unref?.();
    this.held.set(key, { e, timer });
  }

  async close(): Promise<void> {
    for (const { e } of [...this.held.values()]) this.leave(e, 'replaced');
  }

  private report(ts: Transition[]): void {
    if (ts.length) this.sink(ts);
  }
}
