/**
 * Roster versions: a key per roster hash (`<prefix>rv:<channel>`) that every writer of the hash sets to a new,
 * never-repeated value in the same pipeline or transaction as its write, after it. A node remembers the version it
 * read with the roster it last applied (`RosterSync`), so the periodic anti-entropy pass (redis-sweep.ts) asks Redis
 * for the versions of every roster it follows in one MGET per 1,000 channels and re-reads only those that changed,
 * instead of re-reading every roster (at 100,000 connections over 6 nodes that was ~1,200 HGETALL/s of 50-member
 * hashes, idle).
 *
 * Why a changed version is enough: the version is read before the hash (same connection, in order), so a write the
 * read missed bumps the version after the value remembered, and the next pass sees it. An unchanged version means
 * the hash is as applied; pub/sub messages lost meanwhile (the case anti-entropy exists for) belong to writes, which
 * changed the version. A writer that leaves the version alone (an old node, a hand edit) is still caught by a full
 * pass every {@link FULL_PASS_EVERY} anti-entropy ticks.
 *
 * The key expires ({@link VERSION_TTL_MS}) so versions of rosters nobody writes any more do not pile up in Redis; an
 * expired version reads as `null`, differs from what was remembered, and costs one re-read.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { RedisNames } from './redis-keys.js';

/** Lifetime of a version key after its last write. */
export const VERSION_TTL_MS = 3_600_000;
/** Every this many anti-entropy ticks, every followed roster is re-read whatever its version says. */
export const FULL_PASS_EVERY = 12;
/** Keys per MGET when comparing versions. */
const MGET_BATCH = 1000;

export class RosterVersions {
  /** channel -> the version read with the roster this node last applied (null: no version key then). */
  private readonly applied = new Map<string, string | null>();
  private count = 0;

  constructor(
    private readonly names: RedisNames,
    private readonly nodeId: string,
  ) {}

  /** Queue on `p`, after a write to `channel`'s roster, a new version of it. */
  bump(p: ChainableCommander, channel: string): void {
    p.set(this.names.rosterVersion(channel), `${this.nodeId}:${++this.count}`, 'PX', VERSION_TTL_MS);
  }

  /** This node applied a read of `channel`'s roster made at `version`. */
  record(channel: string, version: string | null): void {
    this.applied.set(channel, version);
  }

  /** Whatever was applied of `channel` no longer tells: its next pass re-reads it. */
  forget(channel: string): void {
    this.applied.delete(channel);
  }

  clear(): void {
    this.applied.clear();
  }

  /** Of `channels`, those whose version differs from the one last applied here (or that were never applied). */
  async changed(pub: Redis, channels: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < channels.length; i += MGET_BATCH) {
      const batch = channels.slice(i, i + MGET_BATCH);
      const now = await pub.mget(batch.map((c) => this.names.rosterVersion(c)));
      batch.forEach((c, j) => {
        if (!this.applied.has(c) || this.applied.get(c) !== now[j]) out.push(c);
      });
    }
    return out;
  }
}
