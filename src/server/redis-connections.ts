/** The Redis link's two connections (commands + subscriber): how they are made and closed (redis-link.ts). */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisBrokerOptions } from './redis-options.js';

/**
 * A new connection (not connected yet) for the link: no offline queue and no retries per command (a command while
 * Redis is down fails at once: the link remembers and resyncs), each command bounded, reconnects with capped
 * backoff, resubscribing done by the link itself.
 */
export function redisConnection(opts: RedisBrokerOptions): Redis {
  const own: RedisOptions = {
    enableOfflineQueue: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 3000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    lazyConnect: true,
  };
  return opts.redis ? opts.redis.duplicate(own) : new Redis(opts.url!, { ...opts.redisOptions, ...own });
}

/** Close a connection: QUIT when it is up (bounded by 1 s), else drop it. */
export async function quit(r: Redis): Promise<void> {
  if (r.status === 'end') return;
  if (r.status !== 'ready') return r.disconnect();
  const t = setTimeout(() => r.disconnect(), 1000);
  await r.quit().catch(() => r.disconnect());
  clearTimeout(t);
}
