// Fan-out over Redis vs one process, and SIGKILL -> leave time. Prints one JSON line.
//   node bench/redis-bench.mjs [--members 500] [--messages 400]
// Needs redis-server on PATH and dist/ (built when missing). Starts a private redis-server on a free
// loopback port and real server processes through the CLI; kills only what it started.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startRedisServer } from '../scripts/redis-test-server.mjs';

const { values } = parseArgs({ options: { members: { type: 'string' }, messages: { type: 'string' } } });
const MEMBERS = Number(values.members ?? 500);
const MESSAGES = Number(values.messages ?? 400);
const PUBLISHERS = 5;
const ROUNDS = 3;
const SECRET = 'redis-bench-secret';

if (!existsSync('dist/cli/main.js')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const { signAccessToken } = await import('../dist/server/index.js');

const started = [];
const sockets = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function serve(redisUrl) {
  const args = ['bin/react-signal-service.js', 'serve', '--port', '0', '--secret', SECRET];
  if (redisUrl) args.push('--redis', redisUrl);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start')), 15_000);
    child.once('exit', (c) => reject(new Error(`server exited ${c}: ${stderr.trim()}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(t);
        resolve({ url: m[1], child });
      }
    });
  });
}

/** A raw client: `onFrame(obj)` for every notification; `request()` waits for its reply (bounded). */
async function client(url, identity, onFrame = () => {}) {
  const jwt = await signAccessToken({ secret: SECRET, identity, device: 'b', audience: url });
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/signal/v1/pubsub?jwt=${jwt}`, { perMessageDeflate: false });
  sockets.add(ws);
  const waiting = new Map();
  let seq = 1;
  ws.on('error', () => {});
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    if (f.id !== undefined && !f.method) waiting.get(f.id)?.(f);
    else onFrame(f);
  });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connect timeout')), 10_000);
    ws.once('open', () => (clearTimeout(t), resolve()));
  });
  return {
    ws,
    request(method, params) {
      const id = seq++;
      ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${method} timeout`)), 10_000);
        waiting.set(id, (f) => (clearTimeout(t), waiting.delete(id), f.error ? reject(new Error(f.error.message)) : resolve(f.result)));
      });
    },
  };
}

/**
 * `MEMBERS` members of one channel spread round-robin over `urls`. Each `round()` has `PUBLISHERS` of them
 * (different ones each round: the per-connection rate limit) publish `MESSAGES` in all, and measures
 * deliveries/s (first publish to last delivery) and the p99 publish-to-delivery latency.
 */
async function fanoutGroup(urls, channel) {
  const expected = MESSAGES * (MEMBERS - 1);
  let lat = [];
  let got = 0;
  let last = 0;
  let done = () => {};
  const onFrame = (f) => {
    if (f.method !== 'signal.publish' || f.params.id !== channel) return;
    const now = performance.now();
    lat.push(now - f.params.t);
    last = now;
    if (++got === expected) done();
  };
  const members = [];
  for (let i = 0; i < MEMBERS; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(i + 50, MEMBERS); j++) batch.push(client(urls[j % urls.length], `${channel}-${j}`, onFrame));
    members.push(...(await Promise.all(batch)));
  }
  await Promise.all(members.map((m) => m.request('signal.join', { id: channel })));
  let r = 0;
  return {
    async round() {
      lat = [];
      got = 0;
      const finished = new Promise((res) => (done = res));
      const pubs = members.slice(r * PUBLISHERS, ++r * PUBLISHERS); // spread over the processes by the round-robin
      const perPub = Math.ceil(MESSAGES / PUBLISHERS);
      const t0 = performance.now();
      let sent = 0;
      for (let k = 0; k < perPub; k++) {
        for (const p of pubs) {
          if (sent++ >= MESSAGES) break;
          p.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: channel, t: performance.now(), k } }));
        }
        await sleep(2);
      }
      await Promise.race([finished, sleep(20_000)]);
      if (got < expected) throw new Error(`fan-out over ${urls.length} process(es): ${got} of ${expected} deliveries`);
      lat.sort((a, b) => a - b);
      return { deliveriesPerSec: Math.round(got / ((last - t0) / 1000)), p99Ms: +lat[Math.floor(lat.length * 0.99)].toFixed(2) };
    },
    close() {
      for (const m of members) (m.ws.terminate(), sockets.delete(m.ws));
    },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** SIGKILL a process holding presence members; time until the last watcher elsewhere saw every leave. */
async function sigkillToLeave(redisUrl, watchUrl) {
  const doomedSrv = await serve(redisUrl);
  const doomed = new Set();
  let resolveAll;
  const allLeft = new Promise((r) => (resolveAll = r));
  const watchers = [];
  let complete = 0;
  for (let i = 0; i < 5; i++) {
    const left = new Set();
    watchers.push(
      await client(watchUrl, `w${i}`, (f) => {
        if (f.method !== 'signal.leave' || !doomed.has(f.params.from) || left.has(f.params.from)) return;
        left.add(f.params.from);
        if (left.size === doomed.size && ++complete === 5) resolveAll(performance.now());
      }),
    );
  }
  for (const w of watchers) await w.request('signal.join', { id: 'kill', presence: true });
  for (let i = 0; i < 5; i++) {
    const d = await client(doomedSrv.url, `d${i}`);
    doomed.add((await d.request('signal.join', { id: 'kill', presence: true })).address);
  }
  await sleep(500);
  const t0 = performance.now();
  doomedSrv.child.kill('SIGKILL');
  const t1 = await Promise.race([allLeft, sleep(20_000).then(() => null)]);
  for (const w of watchers) w.ws.terminate();
  if (t1 === null) throw new Error('members of the killed process did not leave within 20 s');
  return Math.round(t1 - t0);
}

let redis;
try {
  redis = await startRedisServer();
  const single = await serve(null);
  const [a, b] = [await serve(redis.url), await serve(redis.url)];
  const gOne = await fanoutGroup([single.url], 'fan-single');
  const gTwo = await fanoutGroup([a.url, b.url], 'fan-redis');
  await sleep(500);
  const rOne = [];
  const rTwo = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Interleaved, so load from elsewhere on the machine hits both alike; medians of the rounds.
    rOne.push(await gOne.round());
    await sleep(300);
    rTwo.push(await gTwo.round());
    await sleep(300);
  }
  gOne.close();
  gTwo.close();
  const one = { deliveriesPerSec: median(rOne.map((x) => x.deliveriesPerSec)), p99Ms: median(rOne.map((x) => x.p99Ms)) };
  const two = { deliveriesPerSec: median(rTwo.map((x) => x.deliveriesPerSec)), p99Ms: median(rTwo.map((x) => x.p99Ms)) };
  const killMs = await sigkillToLeave(redis.url, a.url);
  console.log(
    JSON.stringify({
      members: MEMBERS,
      messages: MESSAGES,
      rounds: ROUNDS,
      fanoutSingleDeliveriesPerSec: one.deliveriesPerSec,
      fanoutRedisDeliveriesPerSec: two.deliveriesPerSec,
      fanoutRedisRatio: +(two.deliveriesPerSec / one.deliveriesPerSec).toFixed(2),
      fanoutSingleP99Ms: one.p99Ms,
      fanoutRedisP99Ms: two.p99Ms,
      fanoutRedisP99Ratio: +(two.p99Ms / one.p99Ms).toFixed(2),
      sigkillToLeaveMs: killMs,
      ttlMs: 10_000,
    }),
  );
} finally {
  for (const s of sockets) s.terminate();
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.kill();
}
