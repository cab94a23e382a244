/**
 * Names as they go to Redis. Redis keys, pub/sub channels and hash fields are bytes, and ioredis encodes a JS string
 * as UTF-8: a string that is not well-formed UTF-16 (a lone surrogate) loses information on the way (every lone
 * surrogate becomes U+FFFD), so `room\ud800`, `room\udfff` and `room\ufffd` would share one roster and one channel.
 * Every channel name, identity and member address is therefore passed through {@link redisName} first.
 */

/** A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Marks an escaped name. No well-formed name we keep as is starts with it. */
const ESCAPE = '\u0000';

/**
 * The injective form of `name` for Redis: a well-formed string that does not start with NUL is used as is (so
 * ordinary names keep their readable keys, the same as before this encoding); anything else becomes NUL followed by
 * `JSON.stringify(name)`, which escapes lone surrogates as `\udXXX` and is therefore well-formed UTF-16, so its
 * UTF-8 bytes are lossless. The two forms cannot meet (only the second starts with NUL) and each is one-to-one, so
 * two different names never share a Redis key. {@link fromRedisName} is its inverse.
 *
 * @example
 * ```ts
 * redisName('room'); // 'room'
 * redisName('room\ud800'); // '\u0000"room\\ud800"'
 * ```
 */
export function redisName(name: string): string {
  return name.startsWith(ESCAPE) || LONE_SURROGATE.test(name) ? ESCAPE + JSON.stringify(name) : name;
}

/**
 * The name {@link redisName} encoded as `encoded`. Throws on a NUL-prefixed string that is not a JSON string (not
 * written by {@link redisName}); callers reading what other writers may have put in Redis skip such entries.
 */
export function fromRedisName(encoded: string): string {
  if (!encoded.startsWith(ESCAPE)) return encoded;
  const name: unknown = JSON.parse(encoded.slice(ESCAPE.length));
  if (typeof name !== 'string') throw new SyntaxError('not an encoded name');
  return name;
}

/** A broker topic's kind (`ch:`, `id:`), kept readable in front of the encoded rest. */
const KIND = /^[a-z]+:/;

/**
 * The injective form of a broker topic (`ch:<channel>`, `id:<identity>`) as a Redis pub/sub channel name (without
 * the key prefix): its kind as is, then {@link redisName} of the rest, so `ch:room` stays `ch:room`. A topic with no
 * such kind is encoded whole (an encoding starting with NUL, or a well-formed string without a kind, cannot meet the
 * first form). {@link topicFromRedis} is its inverse.
 */
export function redisTopic(topic: string): string {
  const kind = KIND.exec(topic)?.[0];
  return kind === undefined ? redisName(topic) : kind + redisName(topic.slice(kind.length));
}

/** The topic {@link redisTopic} encoded as `encoded`. Throws like {@link fromRedisName} on what it never wrote. */
export function topicFromRedis(encoded: string): string {
  const kind = encoded.startsWith(ESCAPE) ? undefined : KIND.exec(encoded)?.[0];
  return kind === undefined ? fromRedisName(encoded) : kind + fromRedisName(encoded.slice(kind.length));
}

/** The Redis names of one deployment (`prefix`, `sig:` by default): roster hashes, heartbeats, pub/sub channels. */
export interface RedisNames {
  /** Roster hash of `channel`. Its fields are `redisName(address)`. */
  roster(channel: string): string;
  /** Version key of `channel`'s roster hash (redis-roster-version.ts). */
  rosterVersion(channel: string): string;
  /** Heartbeat key of a node. */
  heartbeat(node: string): string;
  /** Pub/sub channel of a broker topic. */
  pubsub(topic: string): string;
}

/** {@link RedisNames} under `prefix`: every name encoded, so two channels, nodes or topics never share one. */
export function redisNames(prefix: string): RedisNames {
  return {
    roster: (channel) => `${prefix}roster:${redisName(channel)}`,
    rosterVersion: (channel) => `${prefix}rv:${redisName(channel)}`,
    heartbeat: (node) => `${prefix}node:${node}`,
    pubsub: (topic) => prefix + redisTopic(topic),
  };
}
