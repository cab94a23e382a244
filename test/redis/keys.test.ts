import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { channelTopic, identityTopic, type BrokerHandlers, type BrokerLink, type BrokerMessage } from '../../src/server/broker.js';
import { RedisBroker } from '../../src/server/redis-broker.js';
import { fromRedisName, redisName, redisTopic, topicFromRedis } from '../../src/server/redis-keys.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { startRedisServer, type RedisServer } from './helpers.js';

// Redis names are bytes and ioredis writes strings as UTF-8, where every lone surrogate becomes U+FFFD: without an
// injective encoding `room\ud800`, `room\udfff` and `room\ufffd` share one roster and one pub/sub channel.

/** What goes over the wire: a string as ioredis encodes it and Redis hands it back. */
const viaUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** Strings rich in what breaks naive encodings: lone surrogates, NUL, quotes, backslashes, colons, U+FFFD, kinds. */
const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ufffd', '\u0000', '"', '\\', ':', 'c', 'h', 'i', 'd', '/', ' ', '\ud83d\ude00'),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 12,
});
const anyString = fc.oneof(tricky, fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' }), fc.string());
const anyTopic = fc.oneof(anyString, anyString.map(channelTopic), anyString.map((s) => `id:${s}`));

describe('redisName / redisTopic: injective names for Redis', () => {
  it('round-trips every string through UTF-8 (so no two strings share a Redis name)', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const enc = redisName(s);
        expect(viaUtf8(enc)).toBe(enc); // well-formed: UTF-8 loses nothing
        expect(fromRedisName(viaUtf8(enc))).toBe(s);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(anyTopic, (t) => {
        const enc = redisTopic(t);
        expect(viaUtf8(enc)).toBe(enc);
        expect(topicFromRedis(viaUtf8(enc))).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });

  it('two different strings never share a Redis name (bytes compared)', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        fc.pre(a !== b);
        expect(Buffer.from(redisName(a)).equals(Buffer.from(redisName(b)))).toBe(false);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(anyTopic, anyTopic, (a, b) => {
        fc.pre(a !== b);
        expect(Buffer.from(redisTopic(a)).equals(Buffer.from(redisTopic(b)))).toBe(false);
      }),
      { numRuns: 3000 },
    );
    // Near neighbours, which a random pair rarely hits: one character changed or dropped.
    fc.assert(
      fc.property(tricky, fc.nat(), tricky, (s, i, ins) => {
        const at = s.length ? i % s.length : 0;
        const variants = [s.slice(0, at) + ins + s.slice(at), s.slice(0, at) + s.slice(at + 1), `\u0000${JSON.stringify(s)}`, `ch:${s}`];
        for (const v of variants) {
          if (v === s) continue;
          expect(viaUtf8(redisName(v))).not.toBe(viaUtf8(redisName(s)));
          expect(viaUtf8(redisTopic(v))).not.toBe(viaUtf8(redisTopic(s)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps well-formed names as they were (readable keys, unchanged for existing deployments)', () => {
    for (const s of ['room', 'lobby/42', 'ünïcödé', '\ud83d\ude00', 'a:b', '', 'x\u0000y']) expect(redisName(s)).toBe(s);
    expect(redisTopic('ch:room')).toBe('ch:room');
    expect(redisTopic('id:alice')).toBe('id:alice');
    const aliases = ['room\ud800', 'room\udfff', 'room\ufffd', '\u0000room', `\u0000${JSON.stringify('room\ufffd')}`];
    const names = aliases.map((a) => viaUtf8(redisName(a)));
    expect(new Set(names).size).toBe(aliases.length);
    expect(redisName('room\ud800')).toBe('\u0000"room\\ud800"');
    expect(redisTopic('ch:room\ud800')).toBe('ch:\u0000"room\\ud800"');
    expect(() => fromRedisName('\u0000not json')).toThrow();
    expect(() => fromRedisName('\u00001')).toThrow();
  });
});

describe('RedisBroker: channel names and identities that UTF-8 would alias stay apart in Redis', () => {
  let redis: RedisServer;
  let links: BrokerLink[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.kill();
  });
  afterEach(async () => {
    await Promise.all(links.map((l) => l.close()));
    links = [];
  });

  interface Node {
    link: BrokerLink;
    got: [string, BrokerMessage][];
    lost: [string, string[]][];
  }
  async function node(id: string, heartbeatMs?: number): Promise<Node> {
    const n: Node = { link: undefined as unknown as BrokerLink, got: [], lost: [] };
    const handlers: BrokerHandlers = {
      message: (topic, msg) => n.got.push([topic, msg]),
      membersLost: (channel, addresses) => n.lost.push([channel, addresses]),
      resync: () => {},
    };
    n.link = await new RedisBroker({ url: redis.url, ttlMs: 3000, ...(heartbeatMs ? { heartbeatMs } : {}) }).attach(id, handlers);
    links.push(n.link);
    return n;
  }

  it('rosters, channel topics, identity topics and member addresses: one each, across nodes', async () => {
    const [a, b] = [await node('nodeA'), await node('nodeB')];
    const chans = ['room\ud800', 'room\udfff', 'room\ufffd'];
    // Each channel gets members from both nodes; identities that alias too (lone surrogates in the address).
    const members = (ch: string, i: number): { a: string; b: string } => ({ a: `u\ud800/d/a${i}`, b: `u\udfff/d/b${i}` });
    for (const [i, ch] of chans.entries()) {
      await a.link.subscribe(channelTopic(ch));
      await b.link.subscribe(channelTopic(ch));
      const m = members(ch, i);
      await a.link.addMember(ch, { address: m.a, state: { ch, i } });
      await b.link.addMember(ch, { address: m.b });
    }
    await a.link.addMember('room\ufffd', { address: 'u\ufffd/d/a9' });
    await sleep(100); // the writes are fire-and-forget
    for (const n of [a, b]) {
      for (const [i, ch] of chans.entries()) {
        const m = members(ch, i);
        const want = [m.a, m.b, ...(ch === 'room\ufffd' ? ['u\ufffd/d/a9'] : [])].sort();
        const got = await n.link.members(ch);
        expect(got.map((x) => x.address).sort(), `roster of ${JSON.stringify(ch)}`).toEqual(want);
        expect(got.find((x) => x.address === m.a)?.state).toEqual({ ch, i });
        expect(got.some((x) => x.unsure)).toBe(false);
      }
    }
    // In Redis: three roster keys, readable for the well-formed name.
    const r = new Redis(redis.url);
    try {
      expect((await r.keys('sig:roster:*')).sort()).toEqual(['sig:roster:\u0000"room\\ud800"', 'sig:roster:\u0000"room\\udfff"', 'sig:roster:room\ufffd']);
      expect(await r.hlen('sig:roster:room\ufffd')).toBe(3);
    } finally {
      r.disconnect();
    }

    // Pub/sub: a message on one channel reaches the other node under exactly that topic, never a look-alike's.
    for (const ch of chans) {
      await a.link.publish(channelTopic(ch), { t: 'pub', ch, from: 'x/d/r', frame: JSON.stringify(ch) });
    }
    await waitFor(() => b.got.length === 3, 3000, 'three channel messages');
    expect(b.got.map(([topic, msg]) => [topic, msg.t === 'pub' && msg.frame])).toEqual(chans.map((ch) => [channelTopic(ch), JSON.stringify(ch)]));

    // Identity topics: b follows only `u\udfff`; messages to `u\ud800` and `u\ufffd` never reach it.
    await b.link.subscribe(identityTopic('u\udfff'));
    for (const id of ['u\ud800', 'u\ufffd', 'u\udfff']) {
      await a.link.publish(identityTopic(id), { t: 'dm', to: id, from: 'x/d/r', frame: id });
    }
    await waitFor(() => b.got.length === 4, 3000, 'the one direct message');
    await sleep(200);
    expect(b.got.slice(3)).toEqual([[identityTopic('u\udfff'), { t: 'dm', to: 'u\udfff', from: 'x/d/r', frame: 'u\udfff' }]]);

    // Removing a member removes exactly it; a leaving node removes exactly its own.
    await a.link.removeMember('room\ud800', members('room\ud800', 0).a);
    await sleep(100);
    expect((await b.link.members('room\ud800')).map((x) => x.address)).toEqual([members('room\ud800', 0).b]);
    expect((await b.link.members('room\udfff')).map((x) => x.address).sort()).toEqual([members('room\udfff', 1).a, members('room\udfff', 1).b].sort());
    await a.link.close();
    links = links.filter((l) => l !== a.link);
    for (const [i, ch] of chans.entries()) {
      const got = await b.link.members(ch);
      expect(got.filter((x) => !x.unsure).map((x) => x.address)).toEqual([members(ch, i).b]);
      // a's heartbeat went with it, so b cannot tell its members from ones not rewritten after a Redis restart yet:
      // unsure (for the TTL; the core was told of their leaves by messages), never under another channel.
      const hadOfA = i === 0 ? [] : i === 1 ? [members(ch, 1).a] : [members(ch, 2).a, 'u\ufffd/d/a9']; // a0 left before
      expect(got.filter((x) => x.unsure).map((x) => x.address).sort()).toEqual(hadOfA.sort());
    }
    expect(b.lost).toEqual([]);
  });

  it('a dead node is reaped from the right roster only, and its addresses announced exactly', async () => {
    const [a, b] = [await node('nodeC', 60_000), await node('nodeD')]; // nodeC would refresh its heartbeat in a minute
    for (const ch of ['dead\ud800', 'dead\ufffd']) await b.link.subscribe(channelTopic(ch));
    await a.link.addMember('dead\ud800', { address: 'v\ud800/d/c1' });
    await b.link.addMember('dead\ufffd', { address: 'v\ufffd/d/d1' });
    await sleep(100);
    // nodeC dies: its heartbeat goes (its entries stay until someone reaps them).
    const r = new Redis(redis.url);
    try {
      await r.del('sig:node:nodeC');
    } finally {
      r.disconnect();
    }
    await waitFor(() => b.lost.length === 1, 5000, 'reaped');
    expect(b.lost).toEqual([['dead\ud800', ['v\ud800/d/c1']]]);
    expect(await b.link.members('dead\ud800')).toEqual([]);
    expect((await b.link.members('dead\ufffd')).map((x) => x.address)).toEqual(['v\ufffd/d/d1']);
  });
});
