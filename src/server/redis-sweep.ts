/**
 * The Redis link's periodic roster sweep (every `sweepMs`): finds members of dead nodes and lets them leave, and now
 * and then has the core reconcile every roster it follows (anti-entropy).
 *
 * A sweep first reads the heartbeats of the other nodes this node knows entries of (one MGET); only when some are
 * missing does it read rosters, and only those holding an entry of a missing node (those reads remove and announce
 * the dead node's entries, and expire the "unsure" ones: redis-roster-view.ts), and those not read since this node
 * began to follow them. So an idle cluster costs one MGET per node per sweep, not a read of every roster. An entry
 * this node never saw in a roster it did read (its join message lost) is found by the next anti-entropy pass, within
 * `reconcileMs`. An anti-entropy pass re-reads only the rosters whose version changed since this node last applied
 * one (redis-roster-version.ts), and every roster every {@link FULL_PASS_EVERY} passes.
 */
import type { Redis } from 'ioredis';
import type { RedisNames } from './redis-keys.js';
import type { RosterView } from './redis-roster-view.js';
import { FULL_PASS_EVERY, type RosterVersions } from './redis-roster-version.js';

/** Roster reads in flight at once (one round trip per batch, not per channel). */
const SWEEP_BATCH = 64;

export interface SweepDeps {
  pub: Redis;
  names: RedisNames;
  view: RosterView;
  versions: RosterVersions;
  /** How often the core reconciles every followed roster (anti-entropy). */
  reconcileMs: number;
  /** The channels this node follows. */
  channels(): string[];
  /** Both Redis connections are up. */
  up(): boolean;
  /** Have the core re-read and reconcile these rosters. */
  resync(channels: string[]): void;
}

export class RosterSweep {
  private reconciledAt = Date.now();
  /** Anti-entropy passes so far (every {@link FULL_PASS_EVERY}th re-reads every roster). */
  private passes = 0;
  private running = false;

  constructor(private readonly d: SweepDeps) {}

  /** One sweep (none while the last one runs). Redis errors end it quietly: the next sweep tries again. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const channels = this.d.channels();
      // Anti-entropy: now and then the core re-reads the rosters that changed and corrects what a lost message left
      // wrong. Its reads go through `members` -> `RosterView.read`, which reaps dead nodes' entries too, so this
      // sweep does not read those rosters again on this tick.
      let resynced = new Set<string>();
      if (channels.length && Date.now() - this.reconciledAt >= this.d.reconcileMs) {
        this.reconciledAt = Date.now();
        const full = ++this.passes % FULL_PASS_EVERY === 0;
        const due = full ? channels : await this.d.versions.changed(this.d.pub, channels);
        if (due.length) this.d.resync(due);
        resynced = new Set(due);
      }
      const suspect = await this.missingNodesChannels();
      const toRead = channels.filter((c) => !resynced.has(c) && (suspect.has(c) || this.d.view.unread(c)));
      const expired: string[] = [];
      for (let i = 0; i < toRead.length && this.d.up(); i += SWEEP_BATCH) {
        const batch = toRead.slice(i, i + SWEEP_BATCH);
        const reads = await Promise.all(batch.map((c) => this.d.view.read(c)));
        reads.forEach((r, j) => r.expired && expired.push(batch[j]!));
      }
      // Members unsure until now are gone for good: the core re-reads those rosters and lets them leave now.
      if (expired.length) this.d.resync(expired);
    } catch {
      // Redis dropped: the next sweep (after sync) tries again.
    } finally {
      this.running = false;
    }
  }

  /** The channels holding an entry (as this node last saw it) of a node whose heartbeat is missing now. */
  private async missingNodesChannels(): Promise<Set<string>> {
    const nodes = this.d.view.nodes();
    const out = new Set<string>();
    if (nodes.size === 0) return out;
    const ids = [...nodes.keys()];
    const beats = await this.d.pub.mget(ids.map((n) => this.d.names.heartbeat(n)));
    ids.forEach((n, i) => {
      if (beats[i] == null) for (const c of nodes.get(n)!) out.add(c);
    });
    return out;
  }
}
