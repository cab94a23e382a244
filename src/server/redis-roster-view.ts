/**
 * What one node knows of the presence rosters in Redis beyond its own members: reading a roster (dropping and
 * announcing dead nodes' entries), and what it last saw of other nodes' entries, so that a member missing from Redis
 * after a Redis restart is told apart from one that left (the "unsure" rule, see {@link RosterView.read}).
 * Used by the Redis link (redis-link.ts) and its sweep (redis-sweep.ts).
 */
import type { Redis } from 'ioredis';
import type { RosterMember } from './broker.js';
import { fromRedisName, type RedisNames } from './redis-keys.js';
import type { RosterVersions } from './redis-roster-version.js';

/**
 * What a node last knew of a roster entry of another node: the owning node's id while the entry was there, or since
 * when it has been missing while that node's heartbeat was gone too (unsure: see {@link RosterView.read}).
 */
type Seen = string | { node: string; missingSince: number };
const ownerOf = (s: Seen): string => (typeof s === 'string' ? s : s.node);

/** A roster as read from Redis: live members, and those whose absence is not proof that they left. */
export interface RosterRead {
  live: Map<string, unknown>;
  /** Missing entries of a node whose heartbeat is missing too, for less than the TTL: maybe not rewritten yet. */
  unsure: string[];
  /** Some entry was unsure until this read, and is now gone for good (its node never came back). */
  expired: boolean;
  /** The roster's version, read just before it (redis-roster-version.ts). */
  version: string | null;
}

/** Where a roster view reads and what it reports. */
export interface RosterViewDeps {
  pub: Redis;
  names: RedisNames;
  nodeId: string;
  ttlMs: number;
  /** Reaping an entry bumps the roster's version. */
  versions: RosterVersions;
  /** Whether this node follows `channel` (only followed channels are remembered: bounded memory). */
  follows(channel: string): boolean;
  /** Entries of dead nodes this node removed from Redis: announce them (to the other nodes and to the core). */
  reaped(channel: string, addresses: string[]): void;
}

/** Other nodes' roster entries as this node last saw them, and roster reads that keep that knowledge current. */
export class RosterView {
  /** What the rosters of the channels we follow held at our last read (or join message): channel -> address -> entry. */
  private readonly seen = new Map<string, Map<string, Seen>>();
  /** Followed channels whose roster this node has not read since it began to follow them (see {@link unread}). */
  private readonly unreadChannels = new Set<string>();

  constructor(private readonly d: RosterViewDeps) {}

  /** A member of `channel` on `node` announced its join (a roster read would have told us the same). */
  joined(channel: string, address: string, node: string): void {
    // If it goes missing from the roster with its node's heartbeat, that is a Redis restart, not a leave.
    const seen = this.of(channel);
    if (seen && ownerOf(seen.get(address) ?? '') !== node) seen.set(address, node);
  }

  /** Members of `channel` that left (a leave message, or another node reaped them). */
  left(channel: string, addresses: Iterable<string>): void {
    const seen = this.seen.get(channel);
    if (seen) for (const a of addresses) seen.delete(a);
  }

  /** This node follows `channel` from now on: its roster counts as unread until the first read. */
  follow(channel: string): void {
    this.unreadChannels.add(channel);
  }

  /** This node no longer follows `channel`. */
  forget(channel: string): void {
    this.seen.delete(channel);
    this.unreadChannels.delete(channel);
  }

  /** Whether `channel`'s roster was not read since this node began to follow it (it may hold entries we never saw). */
  unread(channel: string): boolean {
    return this.unreadChannels.has(channel);
  }

  clear(): void {
    this.seen.clear();
    this.unreadChannels.clear();
  }

  /**
   * While Redis is unreachable: every member of another node seen before, as `unsure` (not knowing is no proof that
   * they left). `mine`: this node's own members of the channel (listed by the caller).
   */
  unsureOthers(channel: string, mine: { has(address: string): boolean } | undefined): RosterMember[] {
    const out: RosterMember[] = [];
    for (const [address, s] of this.seen.get(channel) ?? []) {
      if (ownerOf(s) !== this.d.nodeId && !mine?.has(address)) out.push({ address, unsure: true });
    }
    return out;
  }

  /** The other nodes that own an entry this node remembers, with the channels of their entries. */
  nodes(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [channel, m] of this.seen) {
      let last = '';
      for (const s of m.values()) {
        const node = ownerOf(s);
        if (node === last || node === this.d.nodeId) continue;
        last = node;
        let cs = out.get(node);
        if (!cs) out.set(node, (cs = new Set()));
        cs.add(channel);
      }
    }
    return out;
  }

  /**
   * Read a roster: its live entries; entries of dead nodes are removed and announced.
   *
   * Members we saw before that are missing now: when their node's heartbeat is present, they are gone (a leave whose
   * message was lost). When it is missing too, the node may be dead, or Redis restarted empty and the node has not
   * rewritten its entries yet (it writes them and its heartbeat in one transaction): they are `unsure` for up to
   * the TTL since they first went missing, then gone. The heartbeats of the nodes we saw are read in one transaction
   * with the roster, so both describe one instant.
   */
  async read(channel: string): Promise<RosterRead> {
    const { pub, names, nodeId } = this.d;
    const key = names.roster(channel);
    const seen = this.of(channel);
    const known = seen ? [...new Set([...seen.values()].map(ownerOf))].filter((n) => n !== nodeId) : [];
    const alive = new Map<string, boolean>();
    // The version first: a write after it bumps it again, so a remembered version never hides a later write.
    const tx = pub.multi().get(names.rosterVersion(channel));
    if (known.length) tx.mget(known.map((n) => names.heartbeat(n)));
    const res = await tx.hgetall(key).exec();
    const err = res?.find(([e]) => e)?.[0];
    if (!res || err) throw err ?? new Error('roster read aborted');
    const version = res[0]![1] as string | null;
    if (known.length) {
      const beats = res[1]![1] as (string | null)[];
      known.forEach((n, i) => alive.set(n, beats[i] != null));
    }
    const raw = res[res.length - 1]![1] as Record<string, string>;
    this.unreadChannels.delete(channel);
    const entries: { field: string; address: string; node: string; state: unknown }[] = [];
    for (const [field, value] of Object.entries(raw)) {
      try {
        const v = JSON.parse(value) as { node?: unknown; state?: unknown };
        if (typeof v.node === 'string') entries.push({ field, address: fromRedisName(field), node: v.node, state: v.state });
      } catch {
        // not ours: skip
      }
    }
    // Nodes not read with the roster: their heartbeats now, after it (an entry present then means that its node's
    // heartbeat was written before it, so a heartbeat missing now means that the node is dead).
    const later = [...new Set(entries.map((e) => e.node))].filter((n) => n !== nodeId && !alive.has(n));
    const before = new Set(alive.keys());
    if (later.length) {
      const beats = await pub.mget(later.map((n) => names.heartbeat(n)));
      later.forEach((n, i) => alive.set(n, beats[i] != null));
    }
    const live = new Map<string, unknown>();
    const gone: string[] = [];
    const present = new Set<string>();
    for (const e of entries) {
      present.add(e.address);
      if (e.node !== nodeId && !alive.get(e.node)) {
        gone.push(e.field);
        seen?.delete(e.address);
        continue;
      }
      live.set(e.address, e.state);
      if (!seen || e.node === nodeId) continue;
      const s = seen.get(e.address);
      if (s !== e.node) seen.set(e.address, s !== undefined && ownerOf(s) === e.node ? ownerOf(s) : e.node); // keeps the old string
    }
    const unsure: string[] = [];
    let expired = false;
    if (seen) {
      const now = Date.now();
      for (const [address, s] of seen) {
        if (present.has(address)) continue;
        const node = ownerOf(s);
        if (node === nodeId || (before.has(node) && alive.get(node))) {
          seen.delete(address); // ours (we know), or its node was up, so its entries were there: it left
          continue;
        }
        const since = typeof s === 'string' ? now : s.missingSince;
        if (now - since < this.d.ttlMs) {
          if (typeof s === 'string') seen.set(address, { node, missingSince: now });
          unsure.push(address);
        } else {
          seen.delete(address);
          expired = true;
        }
      }
    }
    if (gone.length) void this.reap(channel, gone);
    return { live, unsure, expired, version };
  }

  /** What we remember of `channel`, created on first use; none for a channel we do not follow. */
  private of(channel: string): Map<string, Seen> | undefined {
    if (!this.d.follows(channel)) return undefined;
    let m = this.seen.get(channel);
    if (!m) this.seen.set(channel, (m = new Map()));
    return m;
  }

  /** Remove entries (raw hash fields) of dead nodes; whoever removes one announces it (to this node and to the others). */
  private async reap(channel: string, fields: string[]): Promise<void> {
    const p = this.d.pub.pipeline();
    for (const f of fields) p.hdel(this.d.names.roster(channel), f);
    this.d.versions.bump(p, channel);
    const res = await p.exec().catch(() => null);
    if (!res) return;
    const lost: string[] = [];
    fields.forEach((f, i) => {
      if (res[i]?.[1] === 1) lost.push(fromRedisName(f));
    });
    if (lost.length) this.d.reaped(channel, lost);
  }
}
