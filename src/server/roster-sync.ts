/**
 * Roster sync with the broker: a channel's roster (every presence member on every node, with its state) kept in
 * step with the broker's. Applies the join, leave and state messages of other nodes, the members of a node that
 * vanished, the first read of a newly opened channel, and resyncs (after a broker outage, or when another node
 * rewrote rosters) through the pure {@link reconcile}. A roster read is slower than messages: what messages change
 * while it is in flight is newer than the read, so it is noted (`touch`, `lateState`) and wins.
 */
import { METHOD, type Limits } from '../protocol/constants.js';
import { encodeNotification } from '../protocol/frames.js';
import { channelTopic, type BrokerLink, type BrokerMessage } from './broker.js';
import type { CoreContext } from './core-context.js';
import { fanOut, type LocalChannel, type LocalChannels } from './local-channel.js';
import { PresenceBatcher } from './presence-batch.js';
import { reconcile } from './reconcile.js';
import { outFrame } from './session.js';

/** A broker message about a channel's members or messages. */
export type ChannelMessage = Extract<BrokerMessage, { t: 'pub' | 'join' | 'leave' }>;

/** What changed while a roster was being read from the broker (those changes are newer than the read). */
interface RosterRead {
  /** Members that joined, left or changed state meanwhile. */
  touched: Set<string>;
  /** States published meanwhile by members the roster did not hold yet. */
  states: Map<string, unknown>;
}

/** Channels reconciled concurrently by `resync`. */
const RESYNC_BATCH = 64;

export class RosterSync {
  private readonly limits: Limits;
  /** Presence announcements: per-member frames, or batches for members that asked for them (presence-batch.ts). */
  readonly presence: PresenceBatcher;
  /** Roster reads in flight: channel -> what broker messages changed meanwhile, one entry per read. */
  private readonly reads = new Map<string, Set<RosterRead>>();

  constructor(
    ctx: CoreContext,
    /** The channels this node holds (shared with `Channels`, which opens and closes them). */
    private readonly open: LocalChannels,
  ) {
    this.limits = ctx.limits;
    this.presence = new PresenceBatcher(ctx.limits);
  }

  /** First read of a newly opened (and subscribed) channel's roster; what messages changed meanwhile wins. */
  async load(link: BrokerLink, c: LocalChannel): Promise<void> {
    const { fresh, touched, states } = await this.read(link, c.name);
    for (const [addr, state] of fresh) {
      if (!touched.has(addr) && !c.roster.has(addr)) c.roster.set(addr, states.has(addr) ? states.get(addr) : state);
    }
  }

  /** Another node's join, leave or publish (with or without a state) in a channel held here. */
  onMessage(msg: ChannelMessage): void {
    const c = this.open.get(msg.ch);
    if (!c) return;
    if (msg.t === 'join') {
      // Already known (a roster read saw it first): no second join frame.
      if (c.roster.has(msg.from)) return this.touch(msg.ch, msg.from);
      c.roster.set(msg.from, undefined);
    } else if (msg.t === 'leave') {
      // Already gone (a roster read removed it first): no second leave frame.
      if (!c.roster.delete(msg.from)) return this.touch(msg.ch, msg.from);
    } else if (msg.hasState && c.roster.has(msg.from)) c.roster.set(msg.from, msg.state);
    else if (msg.hasState) this.lateState(msg.ch, msg.from, msg.state);
    if (msg.t !== 'pub' || (msg.hasState && c.roster.has(msg.from))) this.touch(msg.ch, msg.from);
    if (msg.t === 'pub') fanOut(c, outFrame(msg.frame), null, this.limits);
    else this.presence.announce(c, outFrame(msg.frame), msg.from, null);
  }

  /** Members of another node vanished (it died): tell the local members they left. Idempotent. */
  onMembersLost(channel: string, addresses: string[]): void {
    const c = this.open.get(channel);
    if (!c) return;
    for (const addr of addresses) this.lost(c, addr);
  }

  /**
   * Reconcile rosters with the broker's: every channel held after a broker outage (`channels` absent: first
   * resubscribe and re-add the local presence members), or only `channels` (another node rewrote them).
   */
  async resync(link: BrokerLink, channels?: string[]): Promise<void> {
    const names = channels ?? [...this.open.keys()];
    // Batches of concurrent channels: one broker round trip per batch, not per channel (a node may hold thousands).
    for (let i = 0; i < names.length; i += RESYNC_BATCH) {
      await Promise.all(names.slice(i, i + RESYNC_BATCH).map((name) => this.resyncChannel(link, name, !channels)));
    }
  }

  /** Note that a broker message or a local change touched `address` in `channel` (newer than reads in flight). */
  touch(channel: string, address: string): void {
    const reads = this.reads.get(channel);
    if (reads) for (const r of reads) r.touched.add(address);
  }

  /** Reconcile one channel's roster with the broker's (first resubscribe and re-add my members after an outage). */
  private async resyncChannel(link: BrokerLink, name: string, afterOutage: boolean): Promise<void> {
    const c = this.open.get(name);
    if (!c) return;
    try {
      if (afterOutage) {
        await link.subscribe(channelTopic(name));
        for (const [addr, s] of c.members) {
          if (s.presenceIn(name)) await link.addMember(name, { address: addr, state: c.roster.get(addr) });
        }
      }
      const { fresh, unsure, touched, states } = await this.read(link, name);
      if (this.open.get(name) !== c) return;
      const diff = reconcile(c.roster, fresh, { touched, unsure, local: c.members, late: states });
      for (const addr of diff.leaves) this.lost(c, addr);
      for (const [addr, state] of diff.changes) {
        c.roster.set(addr, state);
        if (diff.joins.has(addr)) this.presence.announce(c, outFrame(encodeNotification(METHOD.join, { id: name, from: addr })), addr, null);
        if (state !== undefined) {
          fanOut(c, outFrame(encodeNotification(METHOD.publish, { id: name, from: addr, state })), null, this.limits);
        }
      }
    } catch {
      // The broker dropped again; the next resync retries.
    }
  }

  /** A member of another node is gone: drop it from the roster and announce its leave (never one of ours). */
  private lost(c: LocalChannel, addr: string): void {
    if (c.members.has(addr)) return; // ours and alive: never reported lost
    this.touch(c.name, addr);
    if (!c.roster.delete(addr)) return;
    this.presence.announce(c, outFrame(encodeNotification(METHOD.leave, { id: c.name, from: addr })), addr, null);
  }

  /**
   * Read a roster, noting which addresses broker messages touched while the read was in flight. `fresh`: the members
   * the broker is sure of; `unsure`: those it cannot tell about for now (kept if held, never added).
   */
  private async read(link: BrokerLink, name: string): Promise<RosterRead & { fresh: Map<string, unknown>; unsure: Set<string> }> {
    const read: RosterRead = { touched: new Set(), states: new Map() };
    let reads = this.reads.get(name);
    if (!reads) this.reads.set(name, (reads = new Set()));
    reads.add(read);
    try {
      const members = await link.members(name, true);
      const fresh = new Map<string, unknown>();
      const unsure = new Set<string>();
      for (const m of members) {
        if (m.unsure) unsure.add(m.address);
        else fresh.set(m.address, m.state);
      }
      return { fresh, unsure, ...read };
    } finally {
      reads.delete(read);
      if (reads.size === 0 && this.reads.get(name) === reads) this.reads.delete(name);
    }
  }

  /** A state from a member not yet in the roster, while the roster is being read: newer than the read. */
  private lateState(channel: string, address: string, state: unknown): void {
    const reads = this.reads.get(channel);
    if (reads) for (const r of reads) r.states.set(address, state);
  }
}
