/**
 * One node's link to Redis (`RedisBroker.attach`): its two connections (commands + subscriber), its heartbeat, the
 * resync after an outage, and the messages it receives. Its parts: this node's own members (redis-held.ts), what it
 * knows of other nodes' roster entries and how it reads a roster (redis-roster-view.ts), the periodic sweep for dead
 * nodes and anti-entropy (redis-sweep.ts), the cross-node channel query (redis-channels.ts), names (redis-keys.ts),
 * the connections themselves (redis-connections.ts).
 * The connection state (`synced`, `rewritten`, up or down) stays here: it decides when the parts may write.
 */
import type { Redis } from 'ioredis';
import type { BrokerHandlers, BrokerLink, BrokerMessage, ChannelCount, RosterMember } from './broker.js';
import { exactPattern, RedisChannelQuery, type QueryMessage } from './redis-channels.js';
import { channelTopic } from './broker.js';
import type { RedisBrokerOptions } from './redis-options.js';
import { redisNames, topicFromRedis, type RedisNames } from './redis-keys.js';
import { HeldRoster } from './redis-held.js';
import { RosterView } from './redis-roster-view.js';
import { RosterSweep } from './redis-sweep.js';
import { RosterVersions } from './redis-roster-version.js';
import { quit, redisConnection } from './redis-connections.js';

/** What travels on a Redis channel besides {@link BrokerMessage}s (handled inside the broker). */
type Control = { t: 'lost'; ch: string; a: string[] } | { t: 'sync'; ch: string };

/** Prefix of channel topics (`ch:<name>`). */
const CHANNEL = channelTopic('');

/** One node's link to Redis: two connections (commands + subscriber), heartbeat and roster sweep. */
export class RedisLink implements BrokerLink {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly names: RedisNames;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly sweepMs: number;
  private readonly heartbeatMs: number;
  private readonly readyTimeoutMs: number;
  private readonly nodeKey: string;
  /** Topics a local member needs. */
  private readonly topics = new Set<string>();
  private readonly held: HeldRoster;
  private readonly view: RosterView;
  private readonly sweeper: RosterSweep;
  private readonly versions: RosterVersions;
  private readonly timers: NodeJS.Timeout[] = [];
  private synced = false;
  /**
   * Our roster entries and heartbeat were written (in one transaction) since the command connection last
   * (re)connected. Until then the heartbeat timer writes nothing: after a Redis restart, a heartbeat of ours that
   * is present proves that our entries are present too, so the other nodes can tell a lost member from one not
   * rewritten yet.
   */
  private rewritten = false;
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
    this.names = redisNames(this.prefix);
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.sweepMs = opts.sweepMs ?? Math.round(this.ttlMs / 5);
    this.heartbeatMs = opts.heartbeatMs ?? Math.round(this.ttlMs / 3);
    this.nodeKey = this.names.heartbeat(nodeId);
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 5000;
    this.onError = opts.onError ?? (() => {});
    this.pub = redisConnection(opts);
    this.sub = redisConnection(opts);
    const { pub, names } = this;
    const canWrite = (): boolean => pub.status === 'ready' && this.rewritten;
    const versions = (this.versions = new RosterVersions(names, nodeId));
    this.held = new HeldRoster({ pub, names, nodeId, versions, canWrite, unsynced: () => void (this.synced = false) });
    const follows = (channel: string): boolean => this.topics.has(channelTopic(channel));
    this.view = new RosterView({ pub, names, nodeId, ttlMs: this.ttlMs, versions, follows, reaped: (channel, lost) => {
      this.send(channelTopic(channel), { t: 'lost', ch: channel, a: lost });
      handlers.membersLost(channel, lost);
    } });
    const channels = (): string[] => [...this.topics].filter((t) => t.startsWith(CHANNEL)).map((t) => t.slice(CHANNEL.length));
    const reconcileMs = opts.reconcileMs ?? Math.round(this.ttlMs / 2);
    this.sweeper = new RosterSweep({ pub, names, view: this.view, versions, reconcileMs, channels, up: () => this.up, resync: (cs) => handlers.resync(cs) });
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
      this.pub.status !== 'ready' ? Promise.resolve(0) : this.pub.publish(names.pubsub(topic), `${this.nodeId} ${JSON.stringify(msg)}`).catch(() => 0);
    this.query = new RedisChannelQuery(nodeId, counted, () => handlers.channelCounts?.() ?? [], opts.commandTimeoutMs ?? 3000);
    const patterns = this.query.topics.map((t) => exactPattern(names.pubsub(t)));
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
    if (topic.startsWith(CHANNEL)) this.view.follow(topic.slice(CHANNEL.length));
    if (this.sub.status === 'ready') await this.sub.subscribe(this.names.pubsub(topic)).catch(() => {});
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    if (topic.startsWith(CHANNEL)) {
      const channel = topic.slice(CHANNEL.length);
      this.view.forget(channel);
      this.versions.forget(channel);
    }
    if (this.sub.status === 'ready') this.sub.unsubscribe(this.names.pubsub(topic)).catch(() => {});
  }

  publish(topic: string, msg: BrokerMessage): void {
    this.send(topic, msg);
  }

  addMember(channel: string, member: RosterMember): void {
    this.held.add(channel, member);
  }

  removeMember(channel: string, address: string): void {
    this.held.remove(channel, address);
  }

  setState(channel: string, address: string, state: unknown): void {
    this.held.setState(channel, address, state);
  }

  /**
   * Every member of the roster, read from Redis. A member another node held that is now missing while that node's
   * heartbeat is missing too comes back `unsure` for up to the TTL since it first went missing (after a Redis
   * restart the other nodes have not rewritten their entries yet; if the node is really dead its members are gone
   * after the TTL). While Redis is unreachable: this node's own members, and every other member seen before as
   * `unsure` (not knowing is no proof that they left). `applied`: the caller brings its roster in line with this read,
   * so anti-entropy may skip the roster while its version stays the same (none with unsure members: they expire
   * without a write).
   */
  async members(channel: string, applied = false): Promise<RosterMember[]> {
    if (this.up) {
      try {
        const { live, unsure, version } = await this.view.read(channel);
        if (applied && unsure.length === 0 && this.topics.has(channelTopic(channel))) this.versions.record(channel, version);
        const out: RosterMember[] = [...live].map(([address, state]) => (state === undefined ? { address } : { address, state }));
        for (const address of unsure) out.push({ address, unsure: true });
        return out;
      } catch {
        // unreachable meanwhile: below
      }
    }
    return [...this.held.members(channel), ...this.view.unsureOthers(channel, this.held.get(channel))];
  }

  channels(): Promise<ChannelCount[]> {
    return this.query.channels();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.pub.status === 'ready') {
      const p = this.pub.pipeline();
      this.held.removeAll(p);
      p.del(this.nodeKey);
      await p.exec().catch(() => {});
    }
    this.closed = true;
    this.held.clear();
    this.view.clear();
    this.versions.clear();
    await Promise.all([this.pub, this.sub].map((r) => quit(r)));
  }

  // ---- inside ----

  private send(topic: string, msg: BrokerMessage | Control): void {
    if (this.pub.status !== 'ready') return;
    this.pub.publish(this.names.pubsub(topic), `${this.nodeId} ${JSON.stringify(msg)}`).catch(() => {});
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

  private sweep(): void {
    if (!this.up) return;
    if (!this.synced) return void this.sync();
    void this.sweeper.run();
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
        this.view.left(msg.ch, others);
        if (others.length) this.handlers.membersLost(msg.ch, others);
      } else if (msg.t === 'sync') {
        this.handlers.resync([msg.ch]);
      } else {
        if (msg.t === 'join') this.view.joined(msg.ch, msg.from, node);
        else if (msg.t === 'leave') this.view.left(msg.ch, [msg.from]);
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
    if (this.pub.status !== 'ready' || !this.rewritten || !this.held.get(channel)) return void (this.synced = false); // the sync loop rewrites all
    const tx = this.pub.multi();
    this.held.restore(tx, channel, addresses);
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
          const topics = [...this.topics].map((t) => this.names.pubsub(t));
          if (topics.length) await this.sub.subscribe(...topics);
          const tx = this.pub.multi();
          const rewrite = this.held.rewrite(tx);
          tx.set(this.nodeKey, String(Date.now()), 'PX', this.beatMs);
          const res = await tx.exec();
          const err = res?.find(([e]) => e)?.[0];
          if (!res || err) throw err ?? new Error('roster rewrite aborted');
          // Removals marked while the transaction ran are dropped on the next pass (marking one unsets `synced`).
          this.held.confirm(rewrite);
          if (this.pub.status === 'ready') this.rewritten = true;
          for (const channel of rewrite.touched) this.send(channelTopic(channel), { t: 'sync', ch: channel });
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
