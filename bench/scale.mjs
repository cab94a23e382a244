// Scale rows of `npm run bench` (issue 16), run from bench/run.mjs:
//   scale      19,000 idle connections on one process (one channel each among 1,000, half with presence): RSS per
//              connection and idle CPU, vs Socket.IO at the same count;
//   connrate   new connections per second (upgrade + token check + join reply) and p99 connect time, vs Socket.IO's
//              handshake (upgrade + namespace connect);
//   storm      1,000 presence members joining one channel at once (batched form and the Bit6 per-member form), and a
//              5,000-member presence channel (time to join and server memory);
//   scale100k  100,000 connections over several server processes on one Redis (20,000 with --quick).
// Every process that holds many sockets runs through lib/node-ulimit.sh (soft open-file limit raised to the hard one);
// load generators are bench/scale-load.mjs children, each bound to its own loopback source address.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { start } from './lib/proc.mjs';
import { pct } from './lib/stats.mjs';
import { startRedisServer } from '../scripts/redis-test-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function scaleBench({ ROOT, ENV, QUICK, want, log, rows, raw, failures }) {
  const WRAP = join(ROOT, 'bench', 'lib', 'node-ulimit.sh');
  const server = (file, env = {}) => start(join(ROOT, 'bench', 'servers', file), { env: { ...ENV, ...env }, execArgv: ['--expose-gc'], execPath: WRAP, readyTimeoutMs: 30000 });
  // `raised`: the generators run at a higher scheduling priority than the servers (only for the multi-process row,
  // whose idle clients must answer pings in time; elsewhere the servers and generators share the CPU as they did).
  const loaders = (k, raised = false) =>
    Promise.all(Array.from({ length: k }, (_, j) => start(join(ROOT, 'bench', 'scale-load.mjs'), { env: { ...ENV, SCALE_LOCAL_ADDRESS: `127.0.0.${2 + j}`, ...(raised ? { SCALE_LOAD_PRIORITY: '-5' } : {}) }, execArgv: ['--max-old-space-size=3072'], execPath: WRAP })));
  const stopAll = async (ps) => Promise.all(ps.map((p) => p.stop()));
  /** CPU % of one core used by `procs` over `ms` of idling. */
  const idleCpu = async (procs, ms) => {
    const c0 = await Promise.all(procs.map((p) => p.call('cpu')));
    const t0 = Date.now();
    await sleep(ms);
    const c1 = await Promise.all(procs.map((p) => p.call('cpu')));
    const used = c1.reduce((s, c, i) => s + c.user + c.system - c0[i].user - c0[i].system, 0) / 1000;
    return +((100 * used) / (Date.now() - t0)).toFixed(2);
  };
  const noPeer = { peer: null, peerName: 'target (no peer)', ratio: null };

  if (want('scale')) {
    const N = 19_000;
    const IDLE = QUICK ? 10_000 : 30_000;
    const per = {};
    for (const [k, file] of [['signal', 'signal-scale.mjs'], ['socketio', 'socketio.mjs']]) {
      const srv = await server(file);
      const ls = await loaders(2);
      try {
        const port = srv.info.port;
        await ls[0].call('open', { tag: 'warm', sys: k, ports: [port], n: 200 }, 60000);
        await ls[0].call('close', { tag: 'warm' });
        await sleep(1000);
        const before = await srv.call('mem');
        const t0 = Date.now();
        await Promise.all(ls.map((l, j) => l.call('open', { tag: 'idle', sys: k, ports: [port], from: j * (N / 2), n: N / 2 }, 300000)));
        const connectMs = Date.now() - t0;
        await sleep(3000);
        const after = await srv.call('mem');
        const stats = await srv.call('stats');
        const cpu = await idleCpu([srv], IDLE);
        per[k] = { rss: (after.rss - before.rss) / N, heap: (after.heapUsed - before.heapUsed) / N, cpu, connectMs, stats, before: before.rss, after: after.rss };
        log(`scale ${k}: ${N} connections in ${connectMs} ms; ${(per[k].rss / 1024).toFixed(2)} kB RSS/conn, idle CPU ${cpu}% over ${IDLE / 1000} s`);
        await Promise.all(ls.map((l) => l.call('close', { tag: 'idle' })));
      } catch (e) {
        failures.push(`scale ${k}: ${e.message}`);
      } finally {
        await stopAll([...ls, srv]);
      }
    }
    raw.scale = per;
    if (per.signal && per.socketio) {
      rows.push({ name: `${N.toLocaleString('en-US')} idle connections on one process (1,000 channels, half presence): RSS per connection`, unit: 'kB RSS', ours: +(per.signal.rss / 1024).toFixed(2), peer: +(per.socketio.rss / 1024).toFixed(2), peerName: 'Socket.IO 4.8', ratio: +(per.signal.rss / per.socketio.rss).toFixed(3), better: 'lower', target: '<= 5 kB' });
      rows.push({ name: `${N.toLocaleString('en-US')} idle connections on one process: idle CPU over ${IDLE / 1000} s (heartbeat included)`, unit: '% of a core', ours: per.signal.cpu, peer: per.socketio.cpu, peerName: 'Socket.IO 4.8 (pings every 25 s)', ratio: per.socketio.cpu > 0 ? +(per.signal.cpu / per.socketio.cpu).toFixed(3) : null, better: 'lower', target: '<= 2 %' });
    }
  }

  if (want('connrate')) {
    const n = QUICK ? 2000 : 5000;
    const res = {};
    for (const [k, file] of [['signal', 'signal-scale.mjs'], ['socketio', 'socketio.mjs']]) {
      const srv = await server(file);
      const [l] = await loaders(1);
      try {
        await l.call('rate', { tag: 'warm', sys: k, port: srv.info.port, n: 300, conc: 50 }, 60000);
        const c0 = await srv.call('cpu');
        res[k] = await l.call('rate', { tag: 'r', sys: k, port: srv.info.port, n, conc: 100 }, 300000);
        const c1 = await srv.call('cpu');
        // The server's own CPU per connection (user + system), apart from the load generator's share of the machine.
        res[k].serverUs = Math.round((c1.user + c1.system - c0.user - c0.system) / n);
        log(`connection rate ${k}: ${res[k].perSec}/s, p50 ${res[k].p50} ms, p99 ${res[k].p99} ms (${n} connections, 100 in flight); server CPU ${res[k].serverUs} µs per connection`);
      } catch (e) {
        failures.push(`connrate ${k}: ${e.message}`);
      } finally {
        await stopAll([l, srv]);
      }
    }
    raw.connrate = res;
    if (res.signal && res.socketio) {
      rows.push({ name: `connection rate (${n.toLocaleString('en-US')} new, 100 in flight): ours upgrade + token check + join; peer upgrade + connect`, unit: 'connections/s', ours: res.signal.perSec, peer: res.socketio.perSec, peerName: 'Socket.IO 4.8', ratio: +(res.signal.perSec / res.socketio.perSec).toFixed(3), better: 'higher', target: '>= 1.5' });
      rows.push({ name: 'connection rate: p99 connect time', unit: 'ms', ours: res.signal.p99, peer: res.socketio.p99, peerName: 'Socket.IO 4.8', ratio: +(res.signal.p99 / res.socketio.p99).toFixed(3), better: 'lower', target: null });
      rows.push({ name: 'connection rate: server CPU per new connection (user + system, load generator excluded)', unit: 'µs', ours: res.signal.serverUs, peer: res.socketio.serverUs, peerName: 'Socket.IO 4.8', ratio: +(res.signal.serverUs / res.socketio.serverUs).toFixed(3), better: 'lower', target: null });
    }
  }

  if (want('storm')) {
    const out = {};
    const storm = async (n, batch, nLoaders) => {
      const srv = await server('signal-scale.mjs');
      const ls = await loaders(nLoaders);
      try {
        const before = await srv.call('mem');
        const tag = `storm${n}${batch ? 'b' : 'p'}`;
        await Promise.all(ls.map((l, j) => l.call('stormConnect', { tag, port: srv.info.port, n: n / nLoaders, from: (j * n) / nLoaders, total: n }, 180000)));
        const at = performance.timeOrigin + performance.now() + 500;
        const r = await Promise.all(ls.map((l) => l.call('stormGo', { tag, at, channel: 'storm', batch, timeoutMs: 90000 }, 120000)));
        const ms = Math.round(Math.max(...r.map((x) => x.lastDone)) - at);
        const complete = r.reduce((s, x) => s + x.complete, 0);
        const frames = r.reduce((s, x) => s + x.frames, 0);
        const after = await srv.call('mem');
        const res = { ms: complete === n ? ms : null, complete, frames, serverRssMB: +((after.rss - before.rss) / 2 ** 20).toFixed(1), serverHeapMB: +((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1) };
        log(`storm ${n} ${batch ? 'batched' : 'per-member'}: ${complete}/${n} rosters complete in ${ms} ms, ${frames} frames, server +${res.serverRssMB} MB RSS`);
        if (complete !== n) failures.push(`storm ${n} ${batch ? 'batched' : 'per-member'}: only ${complete}/${n} rosters complete`);
        return res;
      } catch (e) {
        failures.push(`storm ${n}: ${e.message}`);
        return null;
      } finally {
        await stopAll([...ls, srv]);
      }
    };
    out.b1000 = await storm(1000, true, 1);
    out.p1000 = await storm(1000, false, 1);
    out.b5000 = await storm(5000, true, 2);
    raw.storm = out;
    if (out.b1000) rows.push({ name: 'presence storm: 1,000 members join one channel at once, until every roster is complete (batched presence; peer: the Bit6 per-member form)', unit: 'ms', ours: out.b1000.ms, peer: out.p1000?.ms ?? null, peerName: 'ours, per-member frames', ratio: out.p1000?.ms ? +(out.b1000.ms / out.p1000.ms).toFixed(3) : null, better: 'lower', target: '<= 2000 ms' });
    if (out.b1000) rows.push({ name: 'presence storm of 1,000: frames received by the members', unit: 'frames', ours: out.b1000.frames, peer: out.p1000?.frames ?? null, peerName: 'ours, per-member frames', ratio: out.p1000?.frames ? +(out.b1000.frames / out.p1000.frames).toFixed(4) : null, better: 'lower', target: null });
    if (out.b5000) {
      rows.push({ name: 'presence channel of 5,000 joining at once (batched): until every roster is complete', unit: 'ms', ours: out.b5000.ms, ...noPeer, better: 'lower', target: null });
      rows.push({ name: 'presence channel of 5,000: server memory (RSS growth, after GC)', unit: 'MB', ours: out.b5000.serverRssMB, ...noPeer, better: 'lower', target: null });
    }
  }

  if (want('scale100k')) {
    const N = QUICK ? 20_000 : 100_000;
    const P = Math.ceil(N / 17_000); // server processes, each well under its 20,000 files
    const L = P; // load processes, one source address each
    const per = Math.ceil(N / L);
    const WATCH = [0, 2, 500, 998, 1, 3]; // sampled channels (even: 100% presence members, odd: none)
    const res = { N, P };
    let redis = null;
    let srvs = [];
    let ls = [];
    try {
      redis = await startRedisServer();
      srvs = await Promise.all(Array.from({ length: P }, () => server('signal-scale.mjs', { SCALE_REDIS_URL: redis.url })));
      ls = await loaders(L, true);
      const ports = srvs.map((s) => s.info.port);
      const t0 = Date.now();
      // A connection that times out on a saturated machine is counted (and the run goes on with the others).
      const opened = await Promise.all(ls.map((l, j) => l.call('open', { tag: 'big', ports, from: j * per, n: Math.min(per, N - j * per), channels: 1000, watch: WATCH, conc: 100, tolerate: true }, 1_500_000)));
      res.connectMs = Date.now() - t0;
      res.failedConnects = opened.reduce((a, o) => a + o.failed, 0);
      if (res.failedConnects) failures.push(`scale ${N}: ${res.failedConnects} connections failed (${opened.find((o) => o.failed)?.firstError})`);
      log(`scale ${N}: connected over ${P} processes in ${res.connectMs} ms`);
      await sleep(5000);
      const stats = await Promise.all(srvs.map((s) => s.call('stats')));
      res.connections = stats.map((s) => s.connections);
      const redisTicks = () => {
        try {
          const f = readFileSync(`/proc/${redis.pid}/stat`, 'utf8').split(') ')[1].split(' ');
          return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ms at 100 ticks/s
        } catch {
          return NaN;
        }
      };
      const r0 = redisTicks();
      const t1 = Date.now();
      res.idleCpu = await idleCpu(srvs, QUICK ? 10_000 : 20_000);
      res.redisCpu = +((100 * (redisTicks() - r0)) / (Date.now() - t1)).toFixed(2);
      // Presence on sampled channels: every presence member sees every other one, across processes.
      const views = await Promise.all(ls.map((l) => l.call('rosters', { tag: 'big' })));
      let checked = 0;
      let wrong = 0;
      for (const ch of WATCH) {
        const ms = views.flatMap((v) => v[`ch${ch}`] ?? []);
        const present = ms.filter((m) => m.presence).map((m) => m.me);
        for (const m of ms) {
          const want = present.filter((a) => a !== m.me).sort();
          checked++;
          if (JSON.stringify(m.roster) !== JSON.stringify(want)) wrong++;
        }
      }
      res.presence = { checked, wrong };
      // A publish into channel 0 (members on every process): delivered to all, with p99.
      const pubs = 20;
      const pub = await ls[0].call('publish', { tag: 'big', channel: 'ch0', count: pubs, gapMs: 50 }, 60000);
      await sleep(2000);
      const lats = await Promise.all(ls.map((l) => l.call('latencies', { tag: 'big' })));
      const counts = lats.flatMap((x) => x.perClient);
      const all = Float64Array.from(lats.flatMap((x) => x.lat)).sort();
      const members = views.flatMap((v) => v.ch0 ?? []).length;
      res.publish = { from: pub.from, sent: pub.sent, receivers: members - 1, deliveries: all.length, expected: (members - 1) * pubs, p50: +pct(all, 50).toFixed(2), p99: +pct(all, 99).toFixed(2), minPerClient: Math.min(...counts) };
      const healthy = res.connections.reduce((a, b) => a + b, 0) === N - res.failedConnects;
      log(`scale ${N}: ${res.connections.join('+')} connections, idle CPU ${res.idleCpu}% (servers) + ${res.redisCpu}% (redis), presence ${checked - wrong}/${checked} rosters exact, publish ${res.publish.deliveries}/${res.publish.expected} delivered, p99 ${res.publish.p99} ms`);
      if (!healthy) failures.push(`scale ${N}: servers hold ${res.connections.join('+')} connections, not the ${N - res.failedConnects} opened`);
      if (wrong) failures.push(`scale ${N}: ${wrong}/${checked} sampled rosters wrong`);
      if (res.publish.deliveries !== res.publish.expected) failures.push(`scale ${N}: ${res.publish.deliveries}/${res.publish.expected} publish deliveries`);
      const label = `${(N - res.failedConnects).toLocaleString('en-US')} connections over ${P} processes + Redis`;
      rows.push({ name: `${label}: total idle CPU of the servers (Redis: ${res.redisCpu}%)`, unit: '% of a core', ours: res.idleCpu, ...noPeer, better: 'lower', target: '<= 15 %' });
      rows.push({ name: `${label}: sampled presence rosters exact across processes (${checked} members of ${WATCH.length} channels)`, unit: 'wrong rosters', ours: wrong, ...noPeer, better: 'lower', target: '== 0' });
      rows.push({ name: `${label}: publish into a channel with members on every process, ${res.publish.deliveries}/${res.publish.expected} delivered, p99`, unit: 'ms', ours: res.publish.p99, ...noPeer, better: 'lower', target: null });
      rows.push({ name: `${label}: time to connect and join all`, unit: 'ms', ours: res.connectMs, ...noPeer, better: 'lower', target: null });
    } catch (e) {
      failures.push(`scale ${N}: ${e.message}`);
    } finally {
      await stopAll([...ls, ...srvs]);
      await redis?.stop();
      raw.scale100k = res;
    }
  }
}
