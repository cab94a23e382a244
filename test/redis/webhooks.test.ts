/**
 * Webhooks across real server processes (CLI `serve --redis … --webhook …`) joined by a private redis-server, with a
 * real receiver that verifies every POST: exactly one event per transition whatever process the endpoints are on,
 * a SIGKILLed process's members reported once within the TTL, `replaces` without a left/joined pair (also when the
 * replaced endpoint's process is dead), and no spurious event when Redis restarts empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { killAllSpawned, spawnServer, type RedisServer, type ServerProcess, useRedisServer } from './helpers.js';
import { Raw, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { TcpProxy } from '../server/tcp-proxy.js';
// @ts-expect-error plain ESM helper without types
import { freePort } from '../../scripts/redis-test-server.mjs';

const SECRET = 'redis-webhooks-secret-0123456789abcdef';
const HOOK_SECRET = 'a plain webhook secret';
const TTL_MS = 3000;
let redis: RedisServer;
let rec: Receiver;
let procs: ServerProcess[] = [];
let clients: Raw[] = [];

useRedisServer((r) => (redis = r));
afterEach(async () => {
  for (const c of clients) c.kill();
  clients = [];
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  procs = [];
  await killAllSpawned();
  await rec?.close();
  if (!redis.running) await redis.start();
  const r = new Redis(redis.url);
  await r.flushall().finally(() => r.disconnect());
});

async function servers(n: number, env: Record<string, string> = {}, redisUrl = redis.url): Promise<ServerProcess[]> {
  rec = await startReceiver(HOOK_SECRET);
  const out = await Promise.all(
    Array.from({ length: n }, () =>
      spawnServer(redisUrl, SECRET, { SIGNAL_WEBHOOK_URLS: rec.url, SIGNAL_WEBHOOK_SECRET: HOOK_SECRET, SIGNAL_REDIS_TTL_MS: String(TTL_MS), ...env }),
    ),
  );
  procs.push(...out);
  return out;
}

async function client(p: ServerProcess, identity: string, device = 'd', replaces?: string): Promise<Raw> {
  const c = await Raw.connect(p.url, SECRET, identity, device, replaces);
  clients.push(c);
  return c;
}

/** `type identity` of the events on `ch` (deduplicated by id), in seq order. */
const story = (ch: string): string[] =>
  [...new Map(rec.events.filter((e) => e.data.channel === ch).map((e) => [e.id, e])).values()]
    .sort((a, b) => a.seq! - b.seq!)
    .map((e) => `${e.type}${'identity' in e.data ? ` ${e.data.identity}` : ''}`);

describe('webhooks across processes (Redis)', () => {
  it('one process: the CLI flags wire webhooks; events signed and in order', async () => {
    const [a] = await servers(1);
    const c = await client(a!, 'alice');
    await c.join('room');
    await c.leave('room');
    await waitFor(() => rec.of('channel.vacated').length === 1, 8000, 'vacated');
    expect(story('room')).toEqual(['channel.occupied', 'member.joined alice', 'member.left alice', 'channel.vacated']);
    expect(rec.invalid).toBe(0);
  });

  it('two devices of one user on two processes: one member.joined, one member.left', async () => {
    const [a, b] = await servers(2);
    const phone = await client(a!, 'alice', 'phone');
    const desk = await client(b!, 'alice', 'desk');
    await Promise.all([phone.join('room'), desk.join('room')]);
    await waitFor(() => rec.of('member.joined').length >= 1, 8000, 'joined');
    await Promise.all([phone.leave('room'), desk.leave('room')]);
    await waitFor(() => rec.of('channel.vacated').length >= 1, 8000, 'vacated');
    await sleep(500);
    expect(story('room')).toEqual(['channel.occupied', 'member.joined alice', 'member.left alice', 'channel.vacated']);
  });

  it('a room vacated across three processes: one channel.vacated', async () => {
    const ps = await servers(3);
    const cs = await Promise.all(ps.map((p, i) => client(p, `user${i}`)));
    await Promise.all(cs.map((c) => c.join('room')));
    await waitFor(() => rec.of('member.joined').length === 3, 8000, 'three joined');
    for (const c of cs) c.close(); // all at once
    await waitFor(() => rec.of('channel.vacated').length >= 1 && rec.of('member.left').length === 3, 8000, 'vacated');
    await sleep(500);
    expect(rec.of('channel.occupied')).toHaveLength(1);
    expect(rec.of('channel.vacated')).toHaveLength(1);
    expect(rec.of('member.left')).toHaveLength(3);
    expect(story('room').at(-1)).toBe('channel.vacated');
  });

  it('SIGKILL of a process: its members leave once (reason lost), within the TTL', async () => {
    const [a, b, c] = await servers(3);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    const carol = await client(c!, 'carol');
    await Promise.all([alice.join('room'), bob.join('room'), carol.join('room'), alice.join('solo')]);
    await waitFor(() => rec.of('member.joined').length === 4, 8000, 'joined');
    const t0 = Date.now();
    a!.child.kill('SIGKILL');
    await waitFor(() => rec.of('channel.vacated', 'solo').length === 1 && rec.of('member.left', 'room').length === 1, 3 * TTL_MS, 'lost members reported');
    const elapsed = Date.now() - t0;
    await sleep(TTL_MS); // two survivors sweep: still once
    const room = story('room');
    expect(room[0]).toBe('channel.occupied');
    expect(room.slice(1, 4).sort()).toEqual(['member.joined alice', 'member.joined bob', 'member.joined carol']); // joined concurrently
    expect(room.slice(4)).toEqual(['member.left alice']);
    expect(story('solo')).toEqual(['channel.occupied', 'member.joined alice', 'member.left alice', 'channel.vacated']);
    expect(rec.of('member.left', 'room')[0]!.data).toMatchObject({ identity: 'alice', endpoint: alice.address, reason: 'lost' });
    console.log(`SIGKILL -> member.left at the receiver: ${elapsed} ms (TTL ${TTL_MS} ms)`);
    expect(elapsed).toBeLessThan(TTL_MS + 1000);
  });

  it('SIGTERM: the members of a process that shuts down leave at once (reason disconnected), delivered before it exits', async () => {
    const [a, b] = await servers(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await Promise.all([alice.join('room'), bob.join('room'), alice.join('solo')]);
    await waitFor(() => rec.of('member.joined').length === 3, 8000, 'joined');
    expect(await a!.kill('SIGTERM')).toBe(0);
    await waitFor(() => rec.of('channel.vacated', 'solo').length === 1 && rec.of('member.left', 'room').length === 1, 2000, 'leaves delivered by the exiting process');
    await sleep(TTL_MS); // the survivor's sweep finds nothing left to reap
    expect(story('room').slice(-1)).toEqual(['member.left alice']);
    expect(rec.of('member.left', 'room')[0]!.data).toMatchObject({ reason: 'disconnected' });
    expect(rec.of('member.left')).toHaveLength(2);
  });

  it('replaces across processes: no left/joined pair (the old process alive, then dead)', async () => {
    const [a, b, c] = await servers(3, { SIGNAL_WEBHOOK_REPLACE_GRACE_MS: '2000' });
    const old = await client(a!, 'alice', 'phone');
    await old.join('room');
    await waitFor(() => rec.of('member.joined').length === 1, 8000, 'joined');
    const fresh = await client(b!, 'alice', 'phone', old.address); // a's endpoint is closed through Redis
    await fresh.join('room');
    await sleep(3000); // past the grace
    expect(story('room')).toEqual(['channel.occupied', 'member.joined alice']);
    // the process now holding alice dies; she comes back on c naming the endpoint of the dead process
    b!.child.kill('SIGKILL');
    const again = await client(c!, 'alice', 'phone', fresh.address);
    await again.join('room');
    await sleep(TTL_MS + 1000); // the dead process is reaped meanwhile
    expect(story('room')).toEqual(['channel.occupied', 'member.joined alice']);
    await again.leave('room');
    await waitFor(() => rec.of('channel.vacated').length === 1, 8000, 'vacated');
    expect(story('room')).toEqual(['channel.occupied', 'member.joined alice', 'member.left alice', 'channel.vacated']);
  });

  it('Redis restarts empty: members are restored without events; later transitions are reported', async () => {
    const [a, b] = await servers(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await alice.join('room');
    await waitFor(() => rec.of('member.joined').length === 1, 8000, 'alice joined'); // then bob: a known order
    await bob.join('room');
    await waitFor(() => rec.of('member.joined').length === 2, 8000, 'joined');
    await redis.stop();
    await sleep(300);
    await redis.start();
    await sleep(TTL_MS); // every process sees the new epoch and rewrites its entries
    expect(story('room')).toEqual(['channel.occupied', 'member.joined alice', 'member.joined bob']);
    await alice.leave('room');
    await waitFor(() => rec.of('member.left').length === 1, 8000, 'alice left');
    await bob.leave('room');
    await waitFor(() => rec.of('channel.vacated').length === 1, 8000, 'vacated');
    const after = rec.events.filter((e) => e.type === 'member.left' || e.type === 'channel.vacated').map((e) => `${e.type}${'identity' in e.data ? ` ${e.data.identity}` : ''}`);
    expect(after).toEqual(['member.left alice', 'member.left bob', 'channel.vacated']);
  });

  it('Redis unreachable for longer than the heartbeat expiry, data kept: no event when it is back', async () => {
    const proxy = await new TcpProxy(redis.port).start();
    try {
      const [a, b] = await servers(2, {}, `redis://127.0.0.1:${proxy.port}`);
      const alice = await client(a!, 'alice');
      const bob = await client(b!, 'bob');
      await alice.join('room');
      await waitFor(() => rec.of('member.joined').length === 1, 8000, 'alice joined'); // then bob: a known order
      await bob.join('room');
      await waitFor(() => rec.of('member.joined').length === 2, 8000, 'joined');
      proxy.retarget((await freePort()) as number); // nothing listens there
      proxy.cut();
      await sleep(TTL_MS); // every heartbeat key expires in Redis meanwhile (0.6 TTL)
      proxy.retarget(redis.port);
      await sleep(2 * TTL_MS); // both processes reconnect and beat; nobody reaps the other
      expect(story('room')).toEqual(['channel.occupied', 'member.joined alice', 'member.joined bob']);
      await alice.leave('room');
      await bob.leave('room');
      // two processes POST these: wait for all three (the receiver's arrival order is not the story's, seq is)
      await waitFor(() => rec.of('channel.vacated').length === 1 && rec.of('member.left').length === 2, 8000, 'left and vacated');
      expect(story('room').slice(3)).toEqual(['member.left alice', 'member.left bob', 'channel.vacated']);
    } finally {
      await proxy.close();
    }
  });
});
