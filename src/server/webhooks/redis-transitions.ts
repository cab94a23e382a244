/**
 * The transition store across processes (`RedisBroker`): atomic Lua scripts (redis-scripts.ts) count each channel's
 * endpoints per identity; the process whose script moves a count 0 -> 1 or 1 -> 0 reports the transition, so each
 * one is reported once in the cluster. Its own connection to the broker's Redis (commands only).
 *
 * - A SIGKILLed process: its heartbeat (`P b:<node>`, expiry 0.6 TTL, refreshed every TTL/3) lapses; every TTL/5 each
 *   process looks for nodes without one and runs REAP, which undoes a batch of the dead node's entries atomically:
 *   whoever's script removes an entry reports its `member.left`/`channel.vacated` (reason `lost`), within 0.8 TTL.
 * - After (re)connecting a process reaps nothing for one TTL plus 2 s (the reconnect backoff's cap): an outage longer than the heartbeat's expiry leaves
 *   every heartbeat expired, and each live process needs a heartbeat interval to write its own again. (A process cut
 *   off from Redis while the others are not is reaped like a dead one, and puts its members back when it returns.)
 * - This process stalled past its heartbeat (another may have reaped it), or a command failed (Redis unreachable):
 *   on the next heartbeat it resyncs: entries Redis holds that it no longer has leave, entries it has that Redis lost
 *   join, with events (both are real transitions that the other processes saw, or never saw).
 * - Redis lost its data (a restart without persistence; `P epoch` changed): every process rewrites its entries
 *   silently (no event: they were reported before). Documented imprecision: transitions whose command failed while
 *   Redis was down are not reported if Redis comes back empty, and for about one heartbeat (TTL/3) after that,
 *   while processes rewrite their entries one after the other, a join or leave may be reported against counts that
 *   are not complete yet (one spurious or missing event per affected identity). A process that died while Redis
 *   was down takes its members with it without events.
 *
 * Not for Redis Cluster (the scripts reach keys they compute, which Cluster forbids); a single Redis or a
 * primary with replicas (Sentinel) is fine.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { randomId } from '../ids.js';
import type { RedisBrokerOptions } from '../redis-options.js';
import { redisName } from '../redis-keys.js';
import { identityOf, nodeOfAddress, type LeaveReason, type Transition, type TransitionSink } from './events.js';
import { BEAT, JOIN, LEAVE, REAP } from './redis-scripts.js';
import { entryKey, type Entry, type TransitionStore } from './transitions.js';

type Reply = (number | string)[];
interface Scripts {
  whJoin(...args: string[]): Promise<Reply>;
  whLeave(...args: string[]): Promise<Reply>;
  whReap(...args: string[]): Promise<Reply>;
  whBeat(...args: string[]): Promise<Reply>;
}

/** Entries a REAP call undoes at most (each call is one atomic step). */
const REAP_BATCH = 200;
/** Longest wait between reconnect attempts (the broker's too). */
const RECONNECT_CAP_MS = 2000;
/** REAP calls per dead node and sweep at most (the next sweep continues). */
const REAP_ROUNDS = 50;

export class RedisTransitionStore implements TransitionStore {
  private redis: (Redis & Scripts) | null = null;
  private node = '';
  private sink: TransitionSink = () => {};
  private epoch: string | null = null;
  /** The entries this node holds now: the truth a resync restores. */
  private readonly local = new Map<string, Entry>();
  /** Entries of replaced endpoints, still counted until taken over or their grace ends. */
  private readonly held = new Map<string, { e: Entry; timer: NodeJS.Timeout }>();
  private dirty = false;
  private inflight = 0;
  /** When the connection last became ready again after a drop: no reaping for a while after (see `sweep`). */
  private connectedAt = 0;
  private beating = false;
  private sweeping = false;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly p: string;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly sweepMs: number;

  constructor(
    private readonly opts: RedisBrokerOptions,
    private readonly onError: (e: Error) => void = () => {},
  ) {
    this.p = `${opts.prefix ?? 'sig:'}wh:`;
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.heartbeatMs = opts.heartbeatMs ?? Math.round(this.ttlMs / 3);
    this.sweepMs = opts.sweepMs ?? Math.round(this.ttlMs / 5);
  }

  async start(nodeId: string, sink: TransitionSink): Promise<void> {
    this.node = nodeId;
    this.sink = sink;
    const { Redis } = await import('ioredis');
    const own: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.opts.commandTimeoutMs ?? 3000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), RECONNECT_CAP_MS),
      lazyConnect: true,
    };
    const r = (this.opts.redis ? this.opts.redis.duplicate(own) : new Redis(this.opts.url!, { ...this.opts.redisOptions, ...own })) as Redis & Scripts;
    r.defineCommand('whJoin', { numberOfKeys: 6, lua: JOIN });
    r.defineCommand('whLeave', { numberOfKeys: 4, lua: LEAVE });
    r.defineCommand('whReap', { numberOfKeys: 5, lua: REAP });
    r.defineCommand('whBeat', { numberOfKeys: 3, lua: BEAT });
    r.on('error', (e: Error) => this.onError(e));
    let first = true;
    r.on('ready', () => {
      if (!first) this.connectedAt = Date.now(); // a reconnect (after an outage), not the start
      first = false;
      void this.beat();
    });
    this.redis = r;
    r.connect().catch(() => {});
    const beat = setInterval(() => void this.beat(), this.heartbeatMs);
    const sweep = setInterval(() => void this.sweep(), this.sweepMs);
    beat.unref();
    sweep.unref();
    this.timers.push(beat, sweep);
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 5000);
    while (this.epoch === null && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  }

  join(e: Entry, replaced?: string): void {
    this.local.set(entryKey(e.channel, e.endpoint), e);
    this.runJoin(e, replaced, false);
  }

  leave(e: Entry, reason: LeaveReason): void {
    const key = entryKey(e.channel, e.endpoint);
    this.local.delete(key);
    const h = this.held.get(key);
    if (h) {
      clearTimeout(h.timer);
      this.held.delete(key);
    }
    this.runLeave(e, reason);
  }

  hold(e: Entry, graceMs: number): void {
    const key = entryKey(e.channel, e.endpoint);
    this.local.delete(key);
    if (this.held.has(key)) return;
    const timer = setTimeout(() => this.leave(e, 'replaced'), graceMs);
    timer.unref();
    this.held.set(key, { e, timer });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const { e } of [...this.held.values()]) this.leave(e, 'replaced');
    for (const t of this.timers) clearInterval(t);
    const deadline = Date.now() + 2000;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    this.closed = true;
    const r = this.redis;
    if (!r) return;
    if (r.status === 'ready') await r.del(this.beatKey(this.node)).catch(() => {});
    if (r.status === 'ready') {
      const t = setTimeout(() => r.disconnect(), 1000);
      await r.quit().catch(() => r.disconnect());
      clearTimeout(t);
    } else r.disconnect();
  }

  // ---- inside ----

  private countKey(channel: string): string {
    return `${this.p}c:${redisName(channel)}`;
  }

  private nodeKey(node: string): string {
    return `${this.p}n:${node}`;
  }

  private beatKey(node: string): string {
    return `${this.p}b:${node}`;
  }

  private get ready(): boolean {
    return !this.closed && this.epoch !== null && this.redis?.status === 'ready';
  }

  private runJoin(e: Entry, replaced: string | undefined, silent: boolean): void {
    if (!this.ready) return void (this.dirty = true);
    const ck = this.countKey(e.channel);
    const idf = redisName(e.identity);
    const value = `${Buffer.byteLength(ck)}:${ck}${idf}`;
    const replacedNode = replaced === undefined ? undefined : nodeOfAddress(replaced);
    const keys = [ck, this.nodeKey(this.node), `${this.p}seq`, `${this.p}epoch`, this.nodeKey(replacedNode ?? this.node), `${this.p}nodes`];
    const args = [this.epoch!, entryKey(e.channel, e.endpoint), idf, value, replacedNode === undefined ? '' : entryKey(e.channel, replaced!), silent ? '1' : '0', this.node];
    this.track(this.redis!.whJoin(...keys, ...args), (res) => {
      const out: Transition[] = [];
      if (Number(res[1])) out.push({ type: 'channel.occupied', ...e, seq: Number(res[1]) });
      if (Number(res[2])) out.push({ type: 'member.joined', ...e, seq: Number(res[2]) });
      return out;
    });
  }

  private runLeave(e: Entry, reason: LeaveReason): void {
    if (!this.ready) return void (this.dirty = true);
    const keys = [this.countKey(e.channel), this.nodeKey(this.node), `${this.p}seq`, `${this.p}epoch`];
    this.track(this.redis!.whLeave(...keys, this.epoch!, entryKey(e.channel, e.endpoint), redisName(e.identity)), (res) => leaveTransitions(e, reason, res[1], res[2]));
  }

  /** Run a script; report what it returns (in command order: one connection), or mark the store for a resync. */
  private track(p: Promise<Reply>, read: (res: Reply) => Transition[]): void {
    this.inflight++;
    p.then(
      (res) => {
        if (Number(res[0]) === -1) {
          this.dirty = true;
          void this.beat();
        } else if (Number(res[0]) === 1) this.report(read(res));
      },
      () => (this.dirty = true),
    ).finally(() => this.inflight--);
  }

  private report(ts: Transition[]): void {
    if (!ts.length) return;
    try {
      this.sink(ts);
    } catch (e) {
      this.onError(e as Error);
    }
  }

  /** Refresh the heartbeat; restore or resync when Redis lost data, this node lapsed, or a command failed. */
  private async beat(): Promise<void> {
    const r = this.redis;
    if (this.closed || this.beating || !r || r.status !== 'ready') return;
    this.beating = true;
    try {
      const expiry = Math.max(this.ttlMs - 2 * this.sweepMs, this.heartbeatMs + 100);
      const [cur, had] = await r.whBeat(this.beatKey(this.node), `${this.p}nodes`, `${this.p}epoch`, this.node, String(expiry), randomId(12));
      const epoch = String(cur);
      if (this.epoch === null) {
        this.epoch = epoch;
        if (this.local.size) this.dirty = true;
      } else if (epoch !== this.epoch) {
        // Redis lost its data: rewrite our entries without events (they were reported before).
        this.epoch = epoch;
        this.dirty = false;
        for (const { timer } of this.held.values()) clearTimeout(timer);
        this.held.clear();
        for (const e of this.local.values()) this.runJoin(e, undefined, true);
        return;
      } else if (Number(had) === 0) this.dirty = true; // lapsed: maybe reaped
      if (this.dirty) await this.resync(r);
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.beating = false;
    }
  }

  /** Make Redis hold exactly our entries (plus held ones): the differences are real transitions, reported. */
  private async resync(r: Redis): Promise<void> {
    this.dirty = false;
    const inRedis = await r.hkeys(this.nodeKey(this.node));
    const there = new Set(inRedis);
    for (const key of inRedis) {
      if (this.local.has(key) || this.held.has(key)) continue;
      const e = decodeEntry(key);
      if (e) this.runLeave(e, 'disconnected');
    }
    for (const [key, e] of this.local) if (!there.has(key)) this.runJoin(e, undefined, false);
  }

  /** Find nodes whose heartbeat is gone and undo their entries (each entry by exactly one process). */
  private async sweep(): Promise<void> {
    const r = this.redis;
    // Not for a TTL (plus the reconnect backoff's cap) after (re)connecting: after an outage every live node's
    // heartbeat has expired in Redis, and each needs to reconnect and beat again; reaping at once would report its
    // members lost (then back).
    if (this.sweeping || !this.ready || !r || Date.now() - this.connectedAt < this.ttlMs + RECONNECT_CAP_MS) return;
    this.sweeping = true;
    try {
      const nodes = (await r.smembers(`${this.p}nodes`)).filter((n) => n !== this.node);
      if (!nodes.length) return;
      const beats = await r.mget(nodes.map((n) => this.beatKey(n)));
      for (let i = 0; i < nodes.length; i++) if (beats[i] == null) await this.reap(r, nodes[i]!);
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.sweeping = false;
    }
  }

  private async reap(r: Redis & Scripts, dead: string): Promise<void> {
    for (let round = 0; round < REAP_ROUNDS && this.ready; round++) {
      const res = await r.whReap(this.nodeKey(dead), this.beatKey(dead), `${this.p}nodes`, `${this.p}seq`, `${this.p}epoch`, this.epoch!, dead, String(REAP_BATCH));
      if (Number(res[0]) !== 1 || res.length === 1) return;
      const out: Transition[] = [];
      for (let i = 1; i + 2 < res.length; i += 3) {
        const e = decodeEntry(String(res[i]));
        if (e) out.push(...leaveTransitions(e, 'lost', res[i + 1], res[i + 2]));
      }
      this.report(out);
    }
  }
}

function leaveTransitions(e: Entry, reason: LeaveReason, left: unknown, vacated: unknown): Transition[] {
  const out: Transition[] = [];
  if (Number(left)) out.push({ type: 'member.left', ...e, seq: Number(left), reason });
  if (Number(vacated)) out.push({ type: 'channel.vacated', ...e, seq: Number(vacated), reason });
  return out;
}

/** An entry from its key (JSON `[channel, endpoint]`); `null` for anything else. */
function decodeEntry(key: string): Entry | null {
  try {
    const v = JSON.parse(key) as unknown;
    if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'string') return null;
    return { channel: v[0], endpoint: v[1], identity: identityOf(v[1]) };
  } catch {
    return null;
  }
}
