import { Redis, type RedisOptions } from 'ioredis';
import type { BrokerHandlers, BrokerLink, BrokerMessage, RosterMember } from './broker.js';
import { channelTopic } from './broker.js';
import type { RedisBrokerOptions } from './redis-broker.js';

/** What travels on a Redis channel besides {@link BrokerMessage}s (handled inside the broker). */
type Control = { t: 'lost'; ch: string; a: string[] } | { t: 'sync'; ch: string };

const SWEEP_BATCH = 64;

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
  private sweeping = false;
  private syncing: Promise<void> | null = null;
  private closed = false;
  private readonly onError: (err: Error) => void;

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
    this.nodeKey = `${this.prefix}node:${nodeId}`;
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
      r.on('close', () => (this.synced = false));
      r.on('ready', () => void this.sync());
    }
    this.sub.on('message', (channel: string, payload: string) => this.onMessage(channel, payload));
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

  // ---- BrokerLink ----

  async subscribe(topic: string): Promise<void> {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    if (this.sub.status === 'ready') await this.sub.subscribe(this.prefix + topic).catch(() => {});
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    if (this.sub.status === 'ready') this.sub.unsubscribe(this.prefix + topic).catch(() => {});
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
      this.pub.hdel(this.rosterKey(channel), address).catch(() => this.markStale(channel, address));
    } else this.markStale(channel, address);
  }

  setState(channel: string, address: string, state: unknown): void {
    const m = this.held.get(channel);
    if (!m?.has(address)) return;
    m.set(address, state);
    this.write(channel, address, state);
  }

  async members(channel: string): Promise<RosterMember[]> {
    if (!this.up) return this.localMembers(channel);
    try {
      const live = await this.liveRoster(channel);
      return [...live].map(([address, state]) => (state === undefined ? { address } : { address, state }));
    } catch {
      return this.localMembers(channel);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.pub.status === 'ready') {
      const p = this.pub.pipeline();
      for (const [channel, m] of this.held) if (m.size) p.hdel(this.rosterKey(channel), ...m.keys());
      for (const [channel, s] of this.stale) if (s.size) p.hdel(this.rosterKey(channel), ...s);
      p.del(this.nodeKey);
      await p.exec().catch(() => {});
    }
    this.closed = true;
    this.held.clear();
    this.stale.clear();
    await Promise.all([this.pub, this.sub].map((r) => quit(r)));
  }

  // ---- inside ----

  private rosterKey(channel: string): string {
    return `${this.prefix}roster:${channel}`;
  }

  private send(topic: string, msg: BrokerMessage | Control): void {
    if (this.pub.status !== 'ready') return;
    this.pub.publish(this.prefix + topic, `${this.nodeId} ${JSON.stringify(msg)}`).catch(() => {});
  }

  private write(channel: string, address: string, state: unknown): void {
    if (this.pub.status !== 'ready') return; // rewritten by sync() once Redis is back
    const value = JSON.stringify(state === undefined ? { node: this.nodeId } : { node: this.nodeId, state });
    this.pub.hset(this.rosterKey(channel), address, value).catch(() => (this.synced = false)); // retried by the sweep
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
    if (this.pub.status !== 'ready') return;
    this.pub.set(this.nodeKey, String(Date.now()), 'PX', Math.max(this.ttlMs - 2 * this.sweepMs, this.heartbeatMs + 100)).catch(() => {});
  }

  /** The live entries of a roster; entries of dead nodes are removed and announced. */
  private async liveRoster(channel: string): Promise<Map<string, unknown>> {
    const raw = await this.pub.hgetall(this.rosterKey(channel));
    const entries: { address: string; node: string; state: unknown }[] = [];
    for (const [address, value] of Object.entries(raw)) {
      try {
        const v = JSON.parse(value) as { node?: unknown; state?: unknown };
        if (typeof v.node === 'string') entries.push({ address, node: v.node, state: v.state });
      } catch {
        // not ours: skip
      }
    }
    const nodes = [...new Set(entries.map((e) => e.node))].filter((n) => n !== this.nodeId);
    const dead = new Set<string>();
    if (nodes.length) {
      const beats = await this.pub.mget(nodes.map((n) => `${this.prefix}node:${n}`));
      nodes.forEach((n, i) => beats[i] == null && dead.add(n));
    }
    const live = new Map<string, unknown>();
    const gone: string[] = [];
    for (const e of entries) {
      if (dead.has(e.node)) gone.push(e.address);
      else live.set(e.address, e.state);
    }
    if (gone.length) void this.reap(channel, gone);
    return live;
  }

  /** Remove entries of dead nodes; whoever removes one announces it (to this node and to the others). */
  private async reap(channel: string, addresses: string[]): Promise<void> {
    const p = this.pub.pipeline();
    for (const a of addresses) p.hdel(this.rosterKey(channel), a);
    const res = await p.exec().catch(() => null);
    if (!res) return;
    const lost = addresses.filter((_, i) => res[i]?.[1] === 1);
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
      for (let i = 0; i < channels.length && this.up; i += SWEEP_BATCH) {
        await Promise.all(channels.slice(i, i + SWEEP_BATCH).map((c) => this.liveRoster(c)));
      }
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
      const msg = JSON.parse(payload.slice(sp + 1)) as BrokerMessage | Control;
      if (msg.t === 'lost') {
        const mine = this.held.get(msg.ch);
        const rewrite = mine ? msg.a.filter((a) => mine.has(a)) : [];
        if (rewrite.length) {
          // Our heartbeat lapsed (a stall) and someone reaped our members: put them back, tell the others.
          for (const a of rewrite) this.write(msg.ch, a, mine!.get(a));
          this.send(channelTopic(msg.ch), { t: 'sync', ch: msg.ch });
          this.beat();
        }
        const others = msg.a.filter((a) => !mine?.has(a));
        if (others.length) this.handlers.membersLost(msg.ch, others);
      } else if (msg.t === 'sync') {
        this.handlers.resync([msg.ch]);
      } else {
        this.handlers.message(redisChannel.slice(this.prefix.length), msg);
      }
    } catch {
      // A malformed message must not take the node down.
    }
  }

  /**
   * After (re)connecting: heartbeat, resubscribe, rewrite our roster entries, drop removals Redis missed,
   * ask the other nodes to re-read the rosters we touched, then let the core reconcile.
   */
  private sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      while (this.up && !this.synced) {
        this.synced = true;
        try {
          this.beat();
          const topics = [...this.topics].map((t) => this.prefix + t);
          if (topics.length) await this.sub.subscribe(...topics);
          const touched = new Set<string>();
          const p = this.pub.pipeline();
          for (const [channel, s] of this.stale) {
            if (s.size) p.hdel(this.rosterKey(channel), ...s);
            touched.add(channel);
          }
          for (const [channel, m] of this.held) {
            for (const [address, state] of m) {
              p.hset(this.rosterKey(channel), address, JSON.stringify(state === undefined ? { node: this.nodeId } : { node: this.nodeId, state }));
            }
            touched.add(channel);
          }
          await p.exec();
          this.stale.clear();
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
