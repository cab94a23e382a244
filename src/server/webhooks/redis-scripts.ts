/**
 * The Lua scripts of the Redis transition store (redis-transitions.ts). Each runs atomically, so of several processes
 * acting on one channel exactly one moves a count from 0 to 1 or from 1 to 0, and reports it.
 *
 * Keys (prefix `P` = the broker's prefix + `wh:`):
 * - `P c:<channel>` hash: identity -> endpoints counted (the channel is occupied while the hash exists);
 * - `P n:<node>` hash: entry (JSON `[channel, endpoint]`) -> `<bytes>:<count key><identity field>` (what a reaper needs
 *   to undo the entry without parsing names);
 * - `P b:<node>` the node's heartbeat (expires), `P nodes` the set of nodes with entries, `P seq` the event sequence,
 *   `P epoch` a random value set once: when it changes, Redis lost its data.
 * Every script first checks the caller's epoch (`-1`: stale, the caller restores its entries first).
 */

/**
 * KEYS: count key, own node hash, seq, epoch, replaced endpoint's node hash, nodes set.
 * ARGV: epoch, entry, identity field, entry value, replaced entry ('' for none), silent ('1': count, report nothing), node.
 * Returns {-1} stale, {0} nothing to report (counted already, taken over, or silent), or {1, occupiedSeq, joinedSeq}.
 */
export const JOIN = `
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return {-1} end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[4]) == 0 then return {0} end
redis.call('SADD', KEYS[6], ARGV[7])
if ARGV[5] ~= '' and redis.call('HDEL', KEYS[5], ARGV[5]) == 1 then return {0} end
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
  return {0}
end
local occupied = 0
if redis.call('EXISTS', KEYS[1]) == 0 then occupied = redis.call('INCR', KEYS[3]) end
local joined = 0
if redis.call('HINCRBY', KEYS[1], ARGV[3], 1) == 1 then joined = redis.call('INCR', KEYS[3]) end
return {1, occupied, joined}
`;

/**
 * KEYS: count key, own node hash, seq, epoch. ARGV: epoch, entry, identity field.
 * Returns {-1} stale, {0} not counted (taken over, reaped or never there), or {1, leftSeq, vacatedSeq}.
 */
export const LEAVE = `
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return {-1} end
if redis.call('HDEL', KEYS[2], ARGV[2]) == 0 then return {0} end
local left, vacated = 0, 0
if redis.call('HINCRBY', KEYS[1], ARGV[3], -1) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[3])
  left = redis.call('INCR', KEYS[3])
  if redis.call('EXISTS', KEYS[1]) == 0 then vacated = redis.call('INCR', KEYS[3]) end
end
return {1, left, vacated}
`;

/**
 * Undo up to ARGV[3] entries of a dead node (its heartbeat is gone), atomically: whoever runs it reports them.
 * KEYS: dead node hash, its heartbeat, nodes set, seq, epoch. ARGV: epoch, dead node id, batch size.
 * Returns {-1} stale, {0} the node is alive, or {1, entry, leftSeq, vacatedSeq, entry, ...} (no entries: done).
 */
export const REAP = `
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return {-1} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
local flat = redis.call('HSCAN', KEYS[1], 0, 'COUNT', ARGV[3])[2]
local out = {1}
for i = 1, #flat, 2 do
  local v = flat[i + 1]
  redis.call('HDEL', KEYS[1], flat[i])
  local c = string.find(v, ':', 1, true)
  local len = tonumber(string.sub(v, 1, c - 1))
  local ck = string.sub(v, c + 1, c + len)
  local idf = string.sub(v, c + len + 1)
  local left, vacated = 0, 0
  if redis.call('HINCRBY', ck, idf, -1) <= 0 then
    redis.call('HDEL', ck, idf)
    left = redis.call('INCR', KEYS[4])
    if redis.call('EXISTS', ck) == 0 then vacated = redis.call('INCR', KEYS[4]) end
  end
  out[#out + 1] = flat[i]
  out[#out + 1] = left
  out[#out + 1] = vacated
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
return out
`;

/**
 * The heartbeat. KEYS: heartbeat, nodes set, epoch. ARGV: node, expiry ms, a new epoch (used if none is set).
 * Returns {epoch, 1 if the heartbeat was still there}.
 */
export const BEAT = `
local cur = redis.call('GET', KEYS[3])
if not cur then
  redis.call('SET', KEYS[3], ARGV[3])
  cur = ARGV[3]
end
local had = redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'GET')
redis.call('SADD', KEYS[2], ARGV[1])
if had then return {cur, 1} end
return {cur, 0}
`;
