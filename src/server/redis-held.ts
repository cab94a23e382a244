/**
 * This node's own presence members as the Redis link keeps them: what it holds (and writes to the roster hashes),
 * removals Redis has not confirmed yet (it was down), and the transaction that rewrites all of them after a reconnect.
 * The link (redis-link.ts) decides when writing is allowed (see {@link HeldDeps.canWrite}).
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { RosterMember } from './broker.js';
import { redisName, type RedisNames } from './redis-keys.js';
import type { RosterVersions } from './redis-roster-version.js';

export interface HeldDeps {
  pub: Redis;
  names: RedisNames;
  nodeId: string;
  /** Every write to a roster hash bumps its version (redis-roster-version.ts). */
  versions: RosterVersions;
  /**
   * Whether entries may be written now: the command connection is up and our entries and heartbeat were rewritten
   * since it (re)connected (an entry without its node's heartbeat would be reaped as a dead node's).
   */
  canWrite(): boolean;
  /** Something was not written (or removed): the link's sync loop must run again. */
  unsynced(): void;
}

/** What a rewrite transaction carried, to confirm once it succeeded. */
export interface Rewrite {
  /** Channels whose rosters it touched (the other nodes are asked to re-read them). */
  touched: Set<string>;
  /** The pending removals it carried, per channel. */
  dropped: [string, string[]][];
}

/** This node's presence members and the removals Redis has not confirmed. */
export class HeldRoster {
  /** This node's presence members: channel -> address -> state. */
  private readonly held = new Map<string, Map<string, unknown>>();
  /** Removals Redis has not confirmed (it was down): channel -> addresses. */
  private readonly stale = new Map<string, Set<string>>();

  constructor(private readonly d: HeldDeps) {}

  /** This node's members of `channel` (address -> state), if any. */
  get(channel: string): ReadonlyMap<string, unknown> | undefined {
    return this.held.get(channel);
  }

  /** This node's members of `channel`, as roster members. */
  members(channel: string): RosterMember[] {
    const m = this.held.get(channel);
    return m ? [...m].map(([address, state]) => (state === undefined ? { address } : { address, state })) : [];
  }

  add(channel: string, member: RosterMember): void {
    let m = this.held.get(channel);
    if (!m) this.held.set(channel, (m = new Map()));
    m.set(member.address, member.state);
    this.stale.get(channel)?.delete(member.address);
    this.write(channel, member.address, member.state);
  }

  remove(channel: string, address: string): void {
    const m = this.held.get(channel);
    if (m?.delete(address) && m.size === 0) this.held.delete(channel);
    if (this.d.pub.status === 'ready') {
      this.versioned(this.d.pub.pipeline().hdel(this.d.names.roster(channel), redisName(address)), channel, () => this.markStale(channel, address));
    } else this.markStale(channel, address);
  }

  setState(channel: string, address: string, state: unknown): void {
    const m = this.held.get(channel);
    if (!m?.has(address)) return;
    m.set(address, state);
    this.write(channel, address, state);
  }

  /**
   * Another node reaped these members of ours (our heartbeat lapsed in a stall): queue them back on `tx` (the
   * caller adds a fresh heartbeat in the same transaction: never an entry without its heartbeat).
   */
  restore(tx: ChainableCommander, channel: string, addresses: string[]): void {
    const mine = this.held.get(channel);
    if (!mine) return;
    for (const a of addresses) if (mine.has(a)) tx.hset(this.d.names.roster(channel), redisName(a), this.entry(mine.get(a)));
    this.d.versions.bump(tx, channel);
  }

  /** Queue on `tx` the removals Redis missed and every entry of ours; {@link confirm} once it succeeded. */
  rewrite(tx: ChainableCommander): Rewrite {
    const touched = new Set<string>();
    const dropped: [string, string[]][] = [];
    for (const [channel, s] of this.stale) {
      const list = [...s];
      if (list.length) tx.hdel(this.d.names.roster(channel), ...list.map(redisName));
      dropped.push([channel, list]);
      touched.add(channel);
    }
    for (const [channel, m] of this.held) {
      for (const [address, state] of m) tx.hset(this.d.names.roster(channel), redisName(address), this.entry(state));
      touched.add(channel);
    }
    for (const channel of touched) this.d.versions.bump(tx, channel);
    return { touched, dropped };
  }

  /** The rewrite succeeded: its removals are done (removals marked while it ran stay for the next pass). */
  confirm(r: Rewrite): void {
    for (const [channel, list] of r.dropped) {
      const s = this.stale.get(channel);
      for (const a of list) s?.delete(a);
      if (s?.size === 0) this.stale.delete(channel);
    }
  }

  /** Queue on `p` the removal of all our entries (closing). */
  removeAll(p: ChainableCommander): void {
    const touched = new Set<string>();
    for (const [channel, m] of this.held) if (m.size) p.hdel(this.d.names.roster(channel), ...[...m.keys()].map(redisName)), touched.add(channel);
    for (const [channel, s] of this.stale) if (s.size) p.hdel(this.d.names.roster(channel), ...[...s].map(redisName)), touched.add(channel);
    for (const channel of touched) this.d.versions.bump(p, channel);
  }

  clear(): void {
    this.held.clear();
    this.stale.clear();
  }

  private entry(state: unknown): string {
    return JSON.stringify(state === undefined ? { node: this.d.nodeId } : { node: this.d.nodeId, state });
  }

  private write(channel: string, address: string, state: unknown): void {
    // Not before our entries and heartbeat are rewritten after a reconnect: the sync loop runs again and writes it.
    if (!this.d.canWrite()) return this.d.unsynced();
    // On failure the sync loop rewrites it.
    this.versioned(this.d.pub.pipeline().hset(this.d.names.roster(channel), redisName(address), this.entry(state)), channel, () => this.d.unsynced());
  }

  /** Send `p` (a write to `channel`'s roster) with a new roster version after it; `onFail` when any of it failed. */
  private versioned(p: ChainableCommander, channel: string, onFail: () => void): void {
    this.d.versions.bump(p, channel);
    p.exec().then((res) => (!res || res.some(([e]) => e)) && onFail(), onFail);
  }

  private markStale(channel: string, address: string): void {
    let s = this.stale.get(channel);
    if (!s) this.stale.set(channel, (s = new Set()));
    s.add(address);
    this.d.unsynced();
  }
}
