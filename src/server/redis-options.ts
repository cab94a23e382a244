import type { Redis, RedisOptions } from 'ioredis';

/** Options of `RedisBroker` (src/server/redis-broker.ts). */
export interface RedisBrokerOptions {
  /** `redis://[:password@]host:port[/db]`. Either this or `redis`. */
  url?: string;
  /** An ioredis client to copy the connection settings from (it is `duplicate()`d, never used or closed itself). */
  redis?: Redis;
  /** Extra ioredis options (with `url`). */
  redisOptions?: RedisOptions;
  /** Prefix of every key and pub/sub channel. @default 'sig:' */
  prefix?: string;
  /** A crashed node's members leave every roster within this time. @default 10000 */
  ttlMs?: number;
  /** How often a node refreshes its heartbeat key. @default ttlMs / 3 */
  heartbeatMs?: number;
  /** How often a node sweeps the rosters of its channels for members of dead nodes. @default ttlMs / 5 */
  sweepMs?: number;
  /**
   * How often a node reconciles its view of each roster with Redis (anti-entropy: Redis pub/sub drops messages
   * published while a subscriber reconnects, and a missed join or leave would otherwise last). @default ttlMs / 2
   */
  reconcileMs?: number;
  /** Bound on each Redis command, so a hung Redis never holds a join. @default 3000 */
  commandTimeoutMs?: number;
  /** How long `attach` waits for Redis; past it the node starts anyway and syncs once Redis is reachable. @default 5000 */
  readyTimeoutMs?: number;
  /** Connection errors (the broker reconnects by itself). @default ignored */
  onError?: (err: Error) => void;
}
