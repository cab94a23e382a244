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
}

/** What travels between nodes. `frame` is the encoded notification, ready to write to sockets. */
export type BrokerMessage =
  | { t: 'pub'; ch: string; from: string; frame: string; state?: unknown; hasState?: boolean }
  | { t: 'join'; ch: string; from: string; frame: string }
  | { t: 'leave'; ch: string; from: string; frame: string }
  | { t: 'dm'; to: string; from: string; ch?: string; frame: string };

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
  /** Every presence member of `channel` on every node. */
  members(channel: string): RosterMember[] | Promise<RosterMember[]>;
  /** Leave the broker: this node's members are removed from every roster. */
  close(): void | Promise<void>;
}

/** A broker backend: each server node attaches once. */
export interface Broker {
  attach(nodeId: string, handlers: BrokerHandlers): BrokerLink | Promise<BrokerLink>;
}

/** Topic of a signal channel. */
export const channelTopic = (name: string): string => `ch:${name}`;
/** Topic of an identity (direct messages). */
export const identityTopic = (identity: string): string => `id:${identity}`;

interface MemoryNode {
  id: string;
  handlers: BrokerHandlers;
  topics: Set<string>;
}

/**
 * In-process broker: the default. One instance can be shared by several servers in one
 * process (tests, in-page demos); each server that attaches is a node.
 */
export class MemoryBroker implements Broker {
  private readonly nodes = new Map<string, MemoryNode>();
  private readonly subscribers = new Map<string, Set<MemoryNode>>();
  /** channel -> address -> member (with the owning node). */
  private readonly rosters = new Map<string, Map<string, { node: string; state?: unknown }>>();

  attach(nodeId: string, handlers: BrokerHandlers): BrokerLink {
    if (this.nodes.has(nodeId)) throw new Error(`node ${nodeId} already attached`);
    const node: MemoryNode = { id: nodeId, handlers, topics: new Set() };
    this.nodes.set(nodeId, node);
    return {
      subscribe: (topic) => {
        node.topics.add(topic);
        let set = this.subscribers.get(topic);
        if (!set) this.subscribers.set(topic, (set = new Set()));
        set.add(node);
      },
      unsubscribe: (topic) => {
        node.topics.delete(topic);
        const set = this.subscribers.get(topic);
        if (set) {
          set.delete(node);
          if (set.size === 0) this.subscribers.delete(topic);
        }
      },
      publish: (topic, msg) => {
        const set = this.subscribers.get(topic);
        if (!set || (set.size === 1 && set.has(node))) return;
        for (const other of [...set]) {
          if (other !== node) other.handlers.message(topic, msg);
        }
      },
      addMember: (channel, member) => {
        let roster = this.rosters.get(channel);
        if (!roster) this.rosters.set(channel, (roster = new Map()));
        roster.set(member.address, member.state === undefined ? { node: nodeId } : { node: nodeId, state: member.state });
      },
      removeMember: (channel, address) => {
        const roster = this.rosters.get(channel);
        if (!roster) return;
        roster.delete(address);
        if (roster.size === 0) this.rosters.delete(channel);
      },
      setState: (channel, address, state) => {
        const entry = this.rosters.get(channel)?.get(address);
        if (entry) entry.state = state;
      },
      members: (channel) => {
        const roster = this.rosters.get(channel);
        if (!roster) return [];
        const out: RosterMember[] = [];
        for (const [address, m] of roster) out.push(m.state === undefined ? { address } : { address, state: m.state });
        return out;
      },
      close: () => this.detach(node),
    };
  }

  /** Remove a node as if its process had died: its members are reported lost to the others. */
  private detach(node: MemoryNode): void {
    if (this.nodes.get(node.id) !== node) return;
    this.nodes.delete(node.id);
    for (const topic of node.topics) this.subscribers.get(topic)?.delete(node);
    const lost = new Map<string, string[]>();
    for (const [channel, roster] of this.rosters) {
      for (const [address, m] of roster) {
        if (m.node !== node.id) continue;
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
