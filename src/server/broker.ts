import { addItem, removeItem, type OneOrSet } from './one-or-set.js';
import { flat } from './session.js';

/**
 * The broker connects server nodes (processes). The in-memory broker is the default and
 * defines the interface; methods return `void | Promise<void>` so sync and async backends
 * share it (as in the Socket.IO adapter).
 */

/** A presence member as the broker's roster holds it. */
export interface RosterMember {
  /** Full endpoint address `identity/device/route`. */
  address: string;
  /** Last state (last writer wins), `undefined` when none was set. */
  state?: unknown;
  /**
   * Only in what `members` returns: the broker cannot tell whether this member is still there (its entry is missing
   * but so is its node's heartbeat: after a Redis restart that node may not have rewritten its entries yet, or it
   * may be dead), for a bounded time (the broker's TTL) after which it is reported present or absent. A reader keeps
   * such a member if it holds it (no leave) and does not add it otherwise (no join). Never set with `state`.
   */
  unsure?: true;
}

/** What travels between nodes. `frame` is the encoded notification, ready to write to sockets. */
export type BrokerMessage =
  | { t: 'pub'; ch: string; from: string; frame: string; state?: unknown; hasState?: boolean }
  | { t: 'join'; ch: string; from: string; frame: string }
  | { t: 'leave'; ch: string; from: string; frame: string }
  | { t: 'dm'; to: string; from: string; ch?: string; frame: string }
  /** A newer connection replaces the endpoint `address` (same identity and device): its node closes it. */
  | { t: 'replace'; address: string }
  /** The server API disconnects the endpoints `target` names (identity, device or endpoint), wherever they are. */
  | { t: 'kick'; target: string; code: number; reason: string }
  /** The server API removes the endpoints `target` names from channel `ch`. */
  | { t: 'unsub'; target: string; ch: string; reason: string };

/** One node's members of one channel (what `channels()` sums over nodes). */
export interface ChannelCount {
  name: string;
  /** Members (with or without presence). */
  members: number;
  /** Of those, presence members. */
  presence: number;
}

/** Callbacks a node gives the broker. */
export interface BrokerHandlers {
  /** A message another node published on a topic this node subscribed to. */
  message(topic: string, msg: BrokerMessage): void;
  /** Members held by a node that vanished; the node tells its local members they left. */
  membersLost(channel: string, addresses: string[]): void;
  /**
   * The broker reconnected after an outage: re-announce local members and reconcile rosters.
   * With `channels`, another node changed those rosters behind the messages' back: reconcile only them.
   */
  resync(channels?: string[]): void;
  /** The link went up or down (e.g. Redis connected, lost, back); a link without `connected` is always up. Optional. */
  status?(up: boolean): void;
  /** A measured round trip to the backend, in milliseconds (for metrics). Optional. */
  roundTrip?(ms: number): void;
  /** This node's channels with at least one local member, and their counts (asked by `BrokerLink.channels`). */
  channelCounts?(): ChannelCount[];
}

/** One node's link to the broker. */
export interface BrokerLink {
  /** Receive messages published on `topic` from now on. */
  subscribe(topic: string): void | Promise<void>;
  unsubscribe(topic: string): void | Promise<void>;
  /** Send `msg` to every other node subscribed to `topic` (never back to this node). */
  publish(topic: string, msg: BrokerMessage): void | Promise<void>;
  /** Add or replace a presence member of `channel` held by this node. */
  addMember(channel: string, member: RosterMember): void | Promise<void>;
  removeMember(channel: string, address: string): void | Promise<void>;
  setState(channel: string, address: string, state: unknown): void | Promise<void>;
  /**
   * Every presence member of `channel` on every node. A broker that cannot tell for some members (see
   * {@link RosterMember.unsure}) lists them with `unsure: true`; it never reports a member absent for want of knowing.
   * `applied`: the caller brings its own roster in line with the answer (the core's roster sync does; a broker may
   * then skip re-reading an unchanged roster for anti-entropy). @default false
   */
  members(channel: string, applied?: boolean): RosterMember[] | Promise<RosterMember[]>;
  /**
   * Every channel with at least one member on any node (this one included), counts summed over the nodes that
   * answered (each node's `BrokerHandlers.channelCounts`). Optional: without it the server API reports this node's.
   */
  channels?(): ChannelCount[] | Promise<ChannelCount[]>;
  /** Leave the broker: this node's members are removed from every roster. */
  close(): void | Promise<void>;
  /** Whether the backend is reachable now (a broker that can be down tells through `handlers.status` too). */
  connected?(): boolean;
}

/** A broker backend: each server node attaches once. */
export interface Broker {
  attach(nodeId: string, handlers: BrokerHandlers): BrokerLink | Promise<BrokerLink>;
}

/** Topic of a signal channel. */
export const channelTopic = (name: string): string => `ch:${name}`;
/** Topic of an identity (direct messages). */
export const identityTopic = (identity: string): string => flat(`id:${identity}`);

interface MemoryNode {
  id: string;
  handlers: BrokerHandlers;
}

/** A roster entry: the owning node's id alone when no state was set (one string, no object per member). */
type MemoryMember = string | { node: string; state?: unknown };

const ownerOf = (m: MemoryMember): string => (typeof m === 'string' ? m : m.node);

/**
 * In-process broker: the default. One instance can be shared by several servers in one
 * process (tests, in-page demos); each server that attaches is a node.
 */
export class MemoryBroker implements Broker {
  private readonly nodes = new Map<string, MemoryNode>();
  /** topic -> its one subscribing node, or a Set once a second node subscribes (most topics have one). */
  private readonly subscribers = new Map<string, OneOrSet<MemoryNode>>();
  /** channel -> address -> member (the owning node, with the state when one was set). */
  private readonly rosters = new Map<string, Map<string, MemoryMember>>();

  attach(nodeId: string, handlers: BrokerHandlers): BrokerLink {
    if (this.nodes.has(nodeId)) throw new Error(`node ${nodeId} already attached`);
    const node: MemoryNode = { id: nodeId, handlers };
    this.nodes.set(nodeId, node);
    return {
      subscribe: (topic) => void addItem(this.subscribers, topic, node),
      unsubscribe: (topic) => this.unsubscribe(topic, node),
      publish: (topic, msg) => {
        const cur = this.subscribers.get(topic);
        if (cur === undefined || cur === node) return;
        if (!(cur instanceof Set)) return cur.handlers.message(topic, msg);
        if (cur.size === 1 && cur.has(node)) return;
        for (const other of [...cur]) {
          if (other !== node) other.handlers.message(topic, msg);
        }
      },
      addMember: (channel, member) => {
        let roster = this.rosters.get(channel);
        if (!roster) this.rosters.set(channel, (roster = new Map()));
        roster.set(member.address, member.state === undefined ? nodeId : { node: nodeId, state: member.state });
      },
      removeMember: (channel, address) => {
        const roster = this.rosters.get(channel);
        if (!roster) return;
        roster.delete(address);
        if (roster.size === 0) this.rosters.delete(channel);
      },
      setState: (channel, address, state) => {
        const roster = this.rosters.get(channel);
        const entry = roster?.get(address);
        if (entry === undefined) return;
        if (typeof entry === 'string') roster!.set(address, { node: entry, state });
        else entry.state = state;
      },
      members: (channel) => {
        const roster = this.rosters.get(channel);
        if (!roster) return [];
        const out: RosterMember[] = [];
        for (const [address, m] of roster) out.push(typeof m === 'string' || m.state === undefined ? { address } : { address, state: m.state });
        return out;
      },
      channels: () => sumCounts([...this.nodes.values()].map((n) => n.handlers.channelCounts?.() ?? [])),
      close: () => this.detach(node),
    };
  }

  private unsubscribe(topic: string, node: MemoryNode): void {
    removeItem(this.subscribers, topic, node);
  }

  /** Remove a node as if its process had died: its members are reported lost to the others. */
  private detach(node: MemoryNode): void {
    if (this.nodes.get(node.id) !== node) return;
    this.nodes.delete(node.id);
    for (const topic of [...this.subscribers.keys()]) this.unsubscribe(topic, node);
    const lost = new Map<string, string[]>();
    for (const [channel, roster] of this.rosters) {
      for (const [address, m] of roster) {
        if (ownerOf(m) !== node.id) continue;
        roster.delete(address);
        let list = lost.get(channel);
        if (!list) lost.set(channel, (list = []));
        list.push(address);
      }
      if (roster.size === 0) this.rosters.delete(channel);
    }
    for (const [channel, addresses] of lost) {
      for (const other of this.nodes.values()) other.handlers.membersLost(channel, addresses);
    }
  }
}

/** Sum per-node channel counts into one list (by name, sorted). */
export function sumCounts(perNode: ChannelCount[][]): ChannelCount[] {
  const all = new Map<string, ChannelCount>();
  for (const list of perNode) {
    for (const c of list) {
      const cur = all.get(c.name);
      if (cur) {
        cur.members += c.members;
        cur.presence += c.presence;
      } else all.set(c.name, { name: c.name, members: c.members, presence: c.presence });
    }
  }
  return [...all.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
