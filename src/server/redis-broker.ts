import type { Broker, BrokerHandlers, BrokerLink } from './broker.js';
import type { RedisBrokerOptions } from './redis-options.js';

export type { RedisBrokerOptions } from './redis-options.js';

/**
 * Redis pub/sub broker: connects several server processes through one Redis.
 *
 * Layout (prefix `sig:` by default). Every channel name, identity and member address in a key, pub/sub channel or
 * hash field goes through `redisName` (redis-keys.ts): a well-formed name is used as is, anything else (a lone
 * surrogate, which UTF-8 would turn into U+FFFD, or a leading NUL) as NUL + its JSON, so two names never share one.
 * - pub/sub channel `sig:ch:<channel>`: one PUBLISH per channel message, join, leave or state update; a node
 *   subscribes while it has a local member of that channel.
 * - pub/sub channel `sig:id:<identity>`: direct messages to `identity`, `identity/device` or
 *   `identity/device/route`; a node subscribes while that identity has a connection on it.
 *   Each payload is `<nodeId> <JSON>` so a node ignores its own messages. The JSON is a `BrokerMessage`
 *   (`t`: `pub` | `join` | `leave` | `dm`, carrying the encoded frame, so a node writes it to its sockets as is),
 *   or a broker control on `sig:ch:<channel>`: `{"t":"lost","ch","a":[addresses]}` (members of a dead node were
 *   removed) and `{"t":"sync","ch"}` (re-read this roster: a node rewrote it after an outage).
 * - hash `sig:roster:<channel>`: presence roster, field = member address `identity/device/route`,
 *   value = JSON `{"node": nodeId, "state"?: lastState}`.
 * - string `sig:node:<nodeId>`: the node's heartbeat, refreshed every `heartbeatMs` (default TTL/3) with an
 *   expiry of `ttlMs - 2 * sweepMs` (default 0.6 TTL: one late heartbeat is tolerated). After a reconnect a node
 *   writes it only in one transaction with all its roster entries, so a node's heartbeat present means its entries
 *   are present.
 *
 * Liveness: every `sweepMs` (default TTL/5) each node reads the heartbeats of the other nodes it knows roster
 * entries of, in the channels it has local members in (one MGET); when one is missing, it reads the rosters holding
 * that node's entries, and entries whose node's heartbeat key is gone are removed (HDEL: the one node that removes an
 * entry announces it) and every node's members get `signal.leave`. A crashed node's members therefore leave within
 * 0.8 TTL plus a round trip, inside `ttlMs` (default 10 s) with room for a loaded machine. (An entry a node never
 * saw, its join message lost, is found by the next reconcile read below instead.) Every `reconcileMs` (default TTL/2)
 * a node also reconciles its view of those rosters with Redis, so a join, leave or state whose pub/sub message
 * was lost (Redis pub/sub is at most once) is corrected within that time. A node that closes gracefully
 * removes its members at once. A late joiner never sees a dead node's members (its roster read drops them).
 *
 * Faults: commands never block local delivery. While Redis is unreachable, publishes are dropped (signals are
 * ephemeral) and roster changes are remembered; ioredis reconnects with capped backoff, then the node
 * resubscribes, rewrites its own roster entries and its heartbeat, asks the other nodes to re-read the rosters it
 * touched, and reconciles its own view (no ghost, no lost member). A Redis restart empties Redis, and the nodes
 * rewrite their entries one after the other: a member seen before that is missing while its node's heartbeat is
 * missing too is reported `unsure` (kept, never announced as leaving) for up to `ttlMs`, then gone (its node did not
 * come back: it is dead). So a member who never left is never announced as leaving, during or after an outage.
 *
 * @example
 * ```ts
 * createSignalServer({ secret, broker: new RedisBroker({ url: 'redis://127.0.0.1:6379' }) });
 * ```
 */
export class RedisBroker implements Broker {
  constructor(readonly options: RedisBrokerOptions) {
    if (!options || (options.url === undefined && options.redis === undefined)) {
      throw new TypeError('RedisBroker needs { url } or { redis }');
    }
    const ttl = options.ttlMs ?? 10_000;
    if (!(ttl >= 300)) throw new RangeError('ttlMs must be at least 300');
  }

  async attach(nodeId: string, handlers: BrokerHandlers): Promise<BrokerLink> {
    // Loaded on first use: `ioredis` is an optional peer dependency, needed only by apps that scale out.
    const { RedisLink } = await loadRedisLink();
    const link = new RedisLink(nodeId, handlers, this.options);
    await link.start();
    return link;
  }
}


/** Import the Redis link (and with it `ioredis`), with an error that names the install command when it is missing. */
async function loadRedisLink(): Promise<typeof import('./redis-link.js')> {
  try {
    return await import('./redis-link.js');
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /ioredis/.test(String((e as Error).message))) {
      throw new Error('RedisBroker needs the ioredis package: npm install ioredis');
    }
    throw e;
  }
}
