/**
 * One node's link to Redis (`RedisBroker.attach`): its two connections, heartbeat, roster sweep, resync after an
 * outage, and what it remembers of other nodes' roster entries (the "unsure" rule). Over 300 lines because these
 * share one piece of state (connection status, `synced`/`rewritten`, the held and seen rosters) whose transitions must
 * stay in one place; the pure parts already live elsewhere (names in redis-keys.ts, the diff in reconcile.ts).
 * It also wires the server API's cross-node channel query (redis-channels.ts) and reports link status and round
 * trips for readiness and metrics (a few lines each). Splitting out roster-entry encoding and the unsure tracking is
 * the next step, best done with the sweep rewrite issue 16 needs (MGET the nodes' heartbeats, read rosters only when
 * one is missing), since that rewrite changes the same state.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { BrokerHandlers, BrokerLink, BrokerMessage, ChannelCount, RosterMember } from './broker.js';
import { exactPattern, RedisChannelQuery, type QueryMessage } from './redis-channels.js';
import { channelTopic } from './broker.js';
import type { RedisBrokerOptions } from './redis-options.js';
import { fromRedisName, redisName, redisTopic, topicFromRedis } from './redis-keys.js';

/** What travels on a Redis channel besides {@link BrokerMessage}s (handled inside the broker). */
type Control = { t: 'lost'; ch: string; a: string[] } | { t: 'sync'; ch: string };

const SWEEP_BATCH = 64;

/**
 * What a node last knew of a roster entry of another node: the owning node's id while the entry was there, or since
 * when it has been missing while that node's heartbeat was gone too (unsure: see `liveRoster`).
 */
type Seen = string | { node: string; missingSince: number };
const ownerOf = (s: Seen): string => (typeof s === 'string' ? s : s.node);

/** A roster as read from Redis: live members, and those whose absence is not proof that they left. */
interface RosterRead {
  live: Map<string, unknown>;
  /** Missing entries of a node whose heartbeat is missing too, for less than the TTL: maybe not rewritten yet. */
  unsure: string[];
  /** Some entry was unsure until this read, and is now gone for good (its node never came back). */
  expired: boolean;
}

/** One node's link to Redis: two connections (commands + subscriber), heartbeat and roster sweep. */
export class RedisLink implements BrokerLink {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly sweepMs: number;
  private readonly reconcileMs: number;
  private reconciledAt = Date.now();
  private readonly heartbeatMs: number;
  private readonly readyTimeoutMs: number;
  private readonly nodeKey: string;
  /** Topics a local member needs. */
  private readonly topics = new Set<string>();
  /** This node's presence members: channel -> address -> state. */
  private readonly held = new Map<string, Map<string, unknown>>();
  /** Removals Redis has not confirmed (it was down): channel -> addresses. */
  private readonly stale = new Map<string, Set<string>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private synced = false;
  /**
   * Our roster entries and heartbeat were written (in one transaction) since the command connection last
   * (re)connected. Until then the heartbeat timer writes nothing: after a Redis restart, a heartbeat of ours that
   * is present proves that our entries are present too, so the other nodes can tell a lost member from one not
   * rewritten yet.
   */
  private rewritten = false;
  /** What the rosters of the channels we subscribe to held at our last read (or join message): channel -> address -> entry. */
  private readonly seen = new Map<string, Map<string, Seen>>();
  private sweeping = false;
  private syncing: Promise<void> | null = null;
  private closed = false;
  /** What {@link report} last told. */
  private wasUp = false;
  private readonly onError: (err: Error) => void;
  /** The server API's `channels()` across nodes (redis-channels.ts). */
  private readonly query: RedisChannelQuery;

  constructor(
    private readonly nodeId: string,
    private readonly handlers: BrokerHandlers,
    opts: RedisBrokerOptions,
  ) {
    this.prefix = opts.prefix ?? 'sig:';
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.sweepMs = opts.sweepMs ?? Math.round(this.ttlMs / 5);
    this.reconcileMs = opts.reconcileMs ?? Math.round(this.ttlMs / 2);
    this.heartbeatMs = opts.heartbeatMs ?? Math.round(this.ttlMs / 3);
    this.nodeKey = this.heartbeatKey(nodeId);
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 5000;
    this.onError = opts.onError ?? (() => {});
    const own: RedisOptions = {
      enableOfflineQueue: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 3000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      lazyConnect: true,
    };
    const make = (): Redis =>
      opts.redis ? opts.redis.duplicate(own) : new Redis(opts.url!, { ...opts.redisOptions, ...own });
    this.pub = make();
    this.sub = make();
    for (const r of [this.pub, this.sub]) {
      r.on('error', (e: Error) => this.onError(e));
      r.on('close', () => {
        this.synced = false;
        this.report();
      });
      r.on('ready', () => {
        this.report();
        void this.sync();
      });
    }
    this.pub.on('close', () => (this.rewritten = false));
    this.sub.on('message', (channel: string, payload: string) => this.onMessage(channel, payload));
    const counted = (topic: string, msg: QueryMessage): Promise<number> =>
      this.pub.status !== 'ready' ? Promise.resolve(0) : this.pub.publish(this.redisChannel(topic), `${this.nodeId} ${JSON.stringify(msg)}`).catch(() => 0);
    this.query = new RedisChannelQuery(nodeId, counted, () => handlers.channelCounts?.() ?? [], opts.commandTimeoutMs ?? 3000);
    const patterns = this.query.topics.map((t) => exactPattern(this.redisChannel(t)));
    this.sub.on('ready', () => void this.sub.psubscribe(...patterns).catch(() => {}));
    this.sub.on('pmessage', (_pattern: string, channel: string, payload: string) => this.onMessage(channel, payload));
  }

  /** Connect (bounded wait: a node starts even while Redis is down, and syncs once it is back). */
  async start(): Promise<void> {
    this.pub.connect().catch(() => {});
    this.sub.connect().catch(() => {});
    const beat = setInterval(() => this.beat(), this.heartbeatMs);
    const sweep = setInterval(() => void this.sweep(), this.sweepMs);
    beat.unref();
    sweep.unref();
    this.timers.push(beat, sweep);
    const deadline = Date.now() + this.readyTimeoutMs;
    while (!(this.synced && !this.syncing) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private get up(): boolean {
    return !this.closed && this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  /** Both connections to Redis are up. */
  connected(): boolean {
    return this.up;
  }

  /** Tell the core when both connections came up or one went down. */
  private report(): void {
    const up = this.up;
    if (up === this.wasUp) return;
    this.wasUp = up;
    this.handlers.status?.(up);
  }

  // ---- BrokerLink ----

  async subscribe(topic: string): Promise<void> {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    if (this.sub.status === 'ready') await this.sub.subscribe(this.redisChannel(topic)).catch(() => {});
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    const pre = channelTopic('');
    if (topic.startsWith(pre)) this.seen.delete(topic.slice(pre.length));
    if (this.sub.status === 'ready') this.sub.unsubscribe(this.redisChannel(topic)).catch(() => {});
  }

  publish(topic: string, msg: BrokerMessage): void {
    this.send(topic, msg);
  }

  addMember(channel: string, member: RosterMember): void {
    let m = this.held.get(channel);
    if (!m) this.held.set(channel, (m = new Map()));
    m.set(member.address, member.state);
    this.stale.get(channel)?.delete(member.address);
    this.write(channel, member.address, member.state);
  }

  removeMember(channel: string, address: string): void {
    const m = this.held.get(channel);
    if (m?.delete(address) && m.size === 0) this.held.delete(channel);
    if (this.pub.status === 'ready') {
      this.pub.hdel(this.rosterKey(channel), redisName(address)).catch(() => this.markStale(channel, address));
    } else this.markStale(channel, address);
  }

  setState(channel: string, address: string, state: unknown): void {
    const m = this.held.get(channel);
    if (!m?.has(address)) return;
    m.set(address, state);
    this.write(channel, address, state);
  }

  /**
   * Every member of the roster, read from Redis. A member another node held that is now missing while that node's
   * heartbeat is missing too comes back `unsure` for up to the TTL since it first went missing (after a Redis
   * restart the other nodes have not rewritten their entries yet; if the node is really dead its members are gone
   * after the TTL). While Redis is unreachable: this node's own members, and every other member seen before as
   * `unsure` (not knowing is no proof that they left).
   */
  async members(channel: string): Promise<RosterMember[]> {
    if (this.up) {
      try {
        const { live, unsure } = await this.liveRoster(channel);
        const out: RosterMember[] = [...live].map(([address, state]) => (state === undefined ? { address } : { address, state }));
        for (const address of unsure) out.push({ address, unsure: true });
        return out;
      } catch {
        // unreachable meanwhile: below
      }
    }
    const out = this.localMembers(channel);
    const mine = this.held.get(channel);
    for (const [address, s] of this.seen.get(channel) ?? []) {
      if (ownerOf(s) !== this.nodeId && !mine?.has(address)) out.push({ address, unsure: true });
    }
    return out;
  }

  channels(): Promise<ChannelCount[]> {
    return this.query.channels();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.pub.status === 'ready') {
      const p = this.pub.pipeline();
      for (const [channel, m] of this.held) if (m.size) p.hdel(this.rosterKey(channel), ...[...m.keys()].map(redisName));
      for (const [channel, s] of this.stale) if (s.size) p.hdel(this.rosterKey(channel), ...[...s].map(redisName));
      p.del(this.nodeKey);
      await p.exec().catch(() => {});
    }
    this.closed = true;
    this.held.clear();
    this.stale.clear();
    this.seen.clear();
    await Promise.all([this.pub, this.sub].map((r) => quit(r)));
  }

  // ---- inside ----

  /** Roster hash of `channel` (its name encoded: two names never share a key). Its fields are `redisName(address)`. */
  private rosterKey(channel: string): string {
    return `${this.prefix}roster:${redisName(channel)}`;
  }

  /** Redis pub/sub channel of a topic (encoded: two topics never share one). */
  private redisChannel(topic: string): string {
    return this.prefix + redisTopic(topic);
  }

  private entry(state: unknown): string {
    return JSON.stringify(state === undefined ? { node: this.nodeId } : { node: this.nodeId, state });
  }

  private send(topic: string, msg: BrokerMessage | Control): void {
    if (this.pub.status !== 'ready') return;
    this.pub.publish(this.redisChannel(topic), `${this.nodeId} ${JSON.stringify(msg)}`).catch(() => {});
  }

  private write(channel: string, address: string, state: unknown): void {
    // Not before our entries and heartbeat are rewritten after a reconnect (an entry without its node's heartbeat
    // would be reaped as a dead node's): the sync loop runs again and writes it.
    if (this.pub.status !== 'ready' || !this.rewritten) return void (this.synced = false);
    this.pub.hset(this.rosterKey(channel), redisName(address), this.entry(state)).catch(() => (this.synced = false)); // retried by the sweep
  }

  private markStale(channel: string, address: string): void {
    let s = this.stale.get(channel);
    if (!s) this.stale.set(channel, (s = new Set()));
    s.add(address);
    this.synced = false;
  }

  private localMembers(channel: string): RosterMember[] {
    const m = this.held.get(channel);
    return m ? [...m].map(([address, state]) => (state === undefined ? { address } : { address, state })) : [];
  }

  private beat(): void {
    if (this.pub.status !== 'ready' || !this.rewritten) return;
    const t0 = performance.now();
    this.pub.set(this.nodeKey, String(Date.now()), 'PX', this.beatMs).then(
      () => this.handlers.roundTrip?.(performance.now() - t0),
      () => {},
    );
  }

  /** Expiry of the heartbeat key. */
  private get beatMs(): number {
    return Math.max(this.ttlMs - 2 * this.sweepMs, this.heartbeatMs + 100);
  }

  private seenOf(channel: string): Map<string, Seen> | undefined {
    if (!this.topics.has(channelTopic(channel))) return undefined; // only channels we follow (bounded memory)
    let m = this.seen.get(channel);
    if (!m) this.seen.set(channel, (m = new Map()));
    return m;
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
  private async liveRoster(channel: string): Promise<RosterRead> {
    const key = this.rosterKey(channel);
    const seen = this.seenOf(channel);
    const known = seen ? [...new Set([...seen.values()].map(ownerOf))].filter((n) => n !== this.nodeId) : [];
    const alive = new Map<string, boolean>();
    let raw: Record<string, string>;
    if (known.length) {
      const res = await this.pub.multi().mget(known.map((n) => this.heartbeatKey(n))).hgetall(key).exec();
      const err = res?.find(([e]) => e)?.[0];
      if (!res || err) throw err ?? new Error('roster read aborted');
      const beats = res[0]![1] as (string | null)[];
      known.forEach((n, i) => alive.set(n, beats[i] != null));
      raw = res[1]![1] as Record<string, string>;
    } else raw = await this.pub.hgetall(key);
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
    const later = [...new Set(entries.map((e) => e.node))].filter((n) => n !== this.nodeId && !alive.has(n));
    const before = new Set(alive.keys());
    if (later.length) {
      const beats = await this.pub.mget(later.map((n) => this.heartbeatKey(n)));
      later.forEach((n, i) => alive.set(n, beats[i] != null));
    }
    const live = new Map<string, unknown>();
    const gone: string[] = [];
    const present = new Set<string>();
    for (const e of entries) {
      present.add(e.address);
      if (e.node !== this.nodeId && !alive.get(e.node)) {
        gone.push(e.field);
        seen?.delete(e.address);
        continue;
      }
      live.set(e.address, e.state);
      if (!seen || e.node === this.nodeId) continue;
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
        if (node === this.nodeId || (before.has(node) && alive.get(node))) {
          seen.delete(address); // ours (we know), or its node was up, so its entries were there: it left
          continue;
        }
        const since = typeof s === 'string' ? now : s.missingSince;
        if (now - since < this.ttlMs) {
          if (typeof s === 'string') seen.set(address, { node, missingSince: now });
          unsure.push(address);
        } else {
          seen.delete(address);
          expired = true;
        }
      }
    }
    if (gone.length) void this.reap(channel, gone);
    return { live, unsure, expired };
  }

  private heartbeatKey(node: string): string {
    return `${this.prefix}node:${node}`;
  }

  /** Remove entries (raw hash fields) of dead nodes; whoever removes one announces it (to this node and to the others). */
  private async reap(channel: string, fields: string[]): Promise<void> {
    const p = this.pub.pipeline();
    for (const f of fields) p.hdel(this.rosterKey(channel), f);
    const res = await p.exec().catch(() => null);
    if (!res) return;
    const lost: string[] = [];
    fields.forEach((f, i) => {
      if (res[i]?.[1] === 1) lost.push(fromRedisName(f));
    });
    if (!lost.length) return;
    this.send(channelTopic(channel), { t: 'lost', ch: channel, a: lost });
    this.handlers.membersLost(channel, lost);
  }

  private async sweep(): Promise<void> {
    if (!this.up || this.sweeping) return;
    if (!this.synced) return void this.sync();
    this.sweeping = true;
    try {
      const pre = channelTopic('');
      const channels = [...this.topics].filter((t) => t.startsWith(pre)).map((t) => t.slice(pre.length));
      // Anti-entropy: now and then the core re-reads these rosters and corrects what a lost message left wrong. Its
      // reads go through `members` -> `liveRoster`, which reaps dead nodes' entries too, so on that tick they are
      // this sweep's reads (each roster is read once per tick, not twice).
      if (channels.length && Date.now() - this.reconciledAt >= this.reconcileMs) {
        this.reconciledAt = Date.now();
        this.handlers.resync(channels);
        return;
      }
      // Batches of concurrent reads: one round trip per batch, not per channel.
      const expired: string[] = [];
      for (let i = 0; i < channels.length && this.up; i += SWEEP_BATCH) {
        const batch = channels.slice(i, i + SWEEP_BATCH);
        const reads = await Promise.all(batch.map((c) => this.liveRoster(c)));
        reads.forEach((r, j) => r.expired && expired.push(batch[j]!));
      }
      // Members unsure until now are gone for good: the core re-reads those rosters and lets them leave now.
      if (expired.length) this.handlers.resync(expired);
    } catch {
      // Redis dropped: the next sweep (after sync) tries again.
    } finally {
      this.sweeping = false;
    }
  }

  private onMessage(redisChannel: string, payload: string): void {
    try {
      const sp = payload.indexOf(' ');
      if (sp < 0 || payload.slice(0, sp) === this.nodeId) return;
      const node = payload.slice(0, sp);
      const msg = JSON.parse(payload.slice(sp + 1)) as BrokerMessage | Control;
      if (this.query.onMessage(msg)) return;
      if (msg.t === 'lost') {
        const mine = this.held.get(msg.ch);
        const rewrite = mine ? msg.a.filter((a) => mine.has(a)) : [];
        if (rewrite.length) this.restore(msg.ch, rewrite);
        const others = msg.a.filter((a) => !mine?.has(a));
        const seen = this.seen.get(msg.ch);
        for (const a of others) seen?.delete(a);
        if (others.length) this.handlers.membersLost(msg.ch, others);
      } else if (msg.t === 'sync') {
        this.handlers.resync([msg.ch]);
      } else {
        // Remember whose member a join announced (a roster read would have told us): if it goes missing from the
        // roster with its node's heartbeat, that is a Redis restart, not a leave.
        if (msg.t === 'join') {
          const seen = this.seenOf(msg.ch);
          if (seen && ownerOf(seen.get(msg.from) ?? '') !== node) seen.set(msg.from, node);
        } else if (msg.t === 'leave') this.seen.get(msg.ch)?.delete(msg.from);
        this.handlers.message(topicFromRedis(redisChannel.slice(this.prefix.length)), msg);
      }
    } catch {
      // A malformed message must not take the node down.
    }
  }

  /**
   * Our heartbeat lapsed (a stall) and another node reaped these members of ours: put them back with a fresh
   * heartbeat (one transaction: never an entry without its heartbeat) and tell the others to re-read the roster.
   */
  private restore(channel: string, addresses: string[]): void {
    const mine = this.held.get(channel);
    if (this.pub.status !== 'ready' || !this.rewritten || !mine) return void (this.synced = false); // the sync loop rewrites all
    const tx = this.pub.multi();
    for (const a of addresses) if (mine.has(a)) tx.hset(this.rosterKey(channel), redisName(a), this.entry(mine.get(a)));
    tx.set(this.nodeKey, String(Date.now()), 'PX', this.beatMs);
    tx.exec().catch(() => (this.synced = false));
    this.send(channelTopic(channel), { t: 'sync', ch: channel }); // after the transaction: same connection, in order
  }

  /**
   * After (re)connecting: resubscribe, then in one transaction drop removals Redis missed, rewrite our roster entries
   * and, last, our heartbeat (a heartbeat of ours present in Redis means our entries are present: after a Redis
   * restart another node can tell our members, not rewritten yet, from members that left); then ask the other nodes
   * to re-read the rosters we touched, and let the core reconcile.
   */
  private sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      while (this.up && !this.synced) {
        this.synced = true;
        try {
          const topics = [...this.topics].map((t) => this.redisChannel(t));
          if (topics.length) await this.sub.subscribe(...topics);
          const touched = new Set<string>();
          const tx = this.pub.multi();
          const dropped: [string, string[]][] = [];
          for (const [channel, s] of this.stale) {
            const list = [...s];
            if (list.length) tx.hdel(this.rosterKey(channel), ...list.map(redisName));
            dropped.push([channel, list]);
            touched.add(channel);
          }
          for (const [channel, m] of this.held) {
            for (const [address, state] of m) tx.hset(this.rosterKey(channel), redisName(address), this.entry(state));
            touched.add(channel);
          }
          tx.set(this.nodeKey, String(Date.now()), 'PX', this.beatMs);
          const res = await tx.exec();
          const err = res?.find(([e]) => e)?.[0];
          if (!res || err) throw err ?? new Error('roster rewrite aborted');
          // Removals marked while the transaction ran are dropped on the next pass (marking one unsets `synced`).
          for (const [channel, list] of dropped) {
            const s = this.stale.get(channel);
            for (const a of list) s?.delete(a);
            if (s?.size === 0) this.stale.delete(channel);
          }
          if (this.pub.status === 'ready') this.rewritten = true;
          for (const channel of touched) this.send(channelTopic(channel), { t: 'sync', ch: channel });
          this.handlers.resync();
        } catch (e) {
          this.synced = false;
          this.onError(e as Error);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })().finally(() => (this.syncing = null));
    return this.syncing;
  }
}

async function quit(r: Redis): Promise<void> {
  if (r.status === 'end') return;
  if (r.status !== 'ready') return r.disconnect();
  const t = setTimeout(() => r.disconnect(), 1000);
  await r.quit().catch(() => r.disconnect());
  clearTimeout(t);
}
