// `npm run bench`: every workload of issue 7 side by side with the peers, in one run (≤ 5 min on 2 cores).
// Servers and the load generator are separate processes (lib/proc.mjs); see BENCHMARKS.md for the method.
//   node bench/run.mjs [--quick] [--profile] [--no-presence] [--only fanout,metrics,memory,crowd,bundles,rerenders,redis,httpapi,webhooks,scale,connrate,storm,scale100k]
//   --quick: N=500 only, one round (writes results/partial*.json, not latest.json / BENCHMARKS.md);
//   --profile: our fan-out server runs with --cpu-prof into bench/results/profiles/;
//   --no-presence: the memory workload joins without presence (diagnosis); --only: a subset (partial output).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { measureBundles } from './bundles.mjs';
import { start } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';
import { writeReport } from './report.mjs';
import { scaleBench } from './scale.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const PROFILE = argv.includes('--profile');
const onlyArg = argv[argv.indexOf('--only') + 1];
const ONLY = argv.includes('--only') ? new Set(onlyArg.split(',')) : null;
const want = (k) => !ONLY || ONLY.has(k);
const ROUNDS = QUICK ? 1 : 3;
const SAMPLE = 10; // real Signal clients among our fan-out receivers
const SECRET = 'bench-secret-' + Math.random().toString(36).slice(2);
const ENV = { BENCH_SECRET: SECRET };
const PROFILE_DIR = join(ROOT, 'bench', 'results', 'profiles');
const tStart = Date.now();
const log = (...a) => console.error(`[bench ${((Date.now() - tStart) / 1000).toFixed(1)}s]`, ...a);

const rows = [];
const raw = {};
const failures = [];

const SYSTEMS = {
  signal: { file: 'bench/servers/signal.mjs', label: 'react-signal-service' },
  socketio: { file: 'bench/servers/socketio.mjs', label: 'Socket.IO 4.8' },
  wsString: { file: 'bench/servers/bare-ws.mjs', args: ['string'], label: 'bare ws, stringify once + ws.send (b)' },
  wsFrame: { file: 'bench/servers/bare-ws.mjs', args: ['frame'], label: 'bare ws, pre-built frame bytes (c)' },
};

async function startServer(key, opts = {}) {
  const s = SYSTEMS[key];
  const execArgv = ['--expose-gc'];
  if (PROFILE && key === 'signal' && opts.profile) execArgv.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`);
  return start(join(ROOT, s.file), { args: s.args, env: ENV, execArgv });
}

async function fanoutAndDm(load) {
  const keys = Object.keys(SYSTEMS);
  const servers = {};
  for (const k of keys) servers[k] = await startServer(k, { profile: true });
  try {
    for (const n of QUICK ? [500] : [500, 2000]) {
      for (const k of keys) {
        const c = await load.call('connect', { tag: `${k}${n}`, sys: k === 'signal' ? 'signal' : k === 'socketio' ? 'socketio' : 'rpc', port: servers[k].info.port, n, sample: k === 'signal' ? SAMPLE : 0 }, 120000);
        log(`fan-out N=${n}: ${k} connected ${c.clients} clients in ${c.ms} ms`);
      }
      const res = Object.fromEntries(keys.map((k) => [k, []]));
      for (let r = 0; r < ROUNDS; r++) {
        // Interleaved, rotating the order each round.
        for (let i = 0; i < keys.length; i++) {
          const k = keys[(i + r) % keys.length];
          const c0 = await servers[k].call('cpu');
          const t0 = Date.now();
          const out = await load.call('fanout', { tag: `${k}${n}`, window: 16, warmMs: 300, durMs: n === 2000 ? 2000 : 1500 }, 60000);
          const c1 = await servers[k].call('cpu');
          out.serverCpu = +((c1.user + c1.system - c0.user - c0.system) / 1000 / (Date.now() - t0)).toFixed(2);
          if (out.error) failures.push(`fan-out N=${n} ${k}: ${out.error}`);
          res[k].push(out);
          log(`fan-out N=${n} round ${r + 1} ${k}: ${out.deliveriesPerSec}/s p50 ${out.p50} ms p99 ${out.p99} ms cpu server ${out.serverCpu} load ${out.loadCpu}${k === 'signal' ? ` (Signal sample got ${out.signalSampleDeliveries})` : ''}${out.error ? ' ERROR ' + out.error : ''}`);
        }
      }
      raw[`fanout${n}`] = res;
      const dps = (k, i) => res[k][i].deliveriesPerSec;
      for (const [peer, better] of [['wsFrame', 'higher'], ['socketio', 'higher'], ['wsString', 'higher']]) {
        const ratios = res.signal.map((_, i) => dps('signal', i) / dps(peer, i));
        rows.push({
          name: `fan-out N=${n} deliveries/s`,
          unit: 'deliveries/s',
          ours: Math.round(median(res.signal.map((x) => x.deliveriesPerSec))),
          peer: Math.round(median(res[peer].map((x) => x.deliveriesPerSec))),
          peerName: SYSTEMS[peer].label,
          ratio: +median(ratios).toFixed(3),
          better,
          target: peer === 'wsFrame' ? '>= 0.9' : peer === 'socketio' ? '>= 1.1' : null,
        });
      }
      for (const q of ['p50', 'p99']) {
        for (const peer of ['socketio', 'wsFrame']) {
          const ratios = res.signal.map((x, i) => x[q] / res[peer][i][q]);
          rows.push({
            name: `fan-out N=${n} latency ${q}`,
            unit: 'ms',
            ours: median(res.signal.map((x) => x[q])),
            peer: median(res[peer].map((x) => x[q])),
            peerName: SYSTEMS[peer].label,
            ratio: +median(ratios).toFixed(3),
            better: 'lower',
            target: q === 'p99' && peer === 'socketio' ? '<= 0.7' : null,
          });
        }
      }
      if (n === 2000 || QUICK) {
        const dres = { signal: [], socketio: [] };
        const pairs = n / 2;
        for (let r = 0; r < (QUICK ? 1 : 5); r++) {
          for (const k of r % 2 ? ['socketio', 'signal'] : ['signal', 'socketio']) {
            const c0 = await servers[k].call('cpu');
            const t0 = Date.now();
            const out = await load.call('dm', { tag: `${k}${n}`, pairs, warmMs: 300, durMs: 1500 }, 60000);
            const c1 = await servers[k].call('cpu');
            out.serverCpu = +((c1.user + c1.system - c0.user - c0.system) / 1000 / (Date.now() - t0)).toFixed(2);
            if (out.error) failures.push(`dm ${k}: ${out.error}`);
            dres[k].push(out);
            log(`direct ${pairs} pairs round ${r + 1} ${k}: ${out.roundTripsPerSec} rt/s p50 ${out.p50} ms p99 ${out.p99} ms cpu server ${out.serverCpu} load ${out.loadCpu}${out.error ? ' ERROR ' + out.error : ''}`);
          }
        }
        raw.dm = dres;
        rows.push({
          name: `direct messages, ${pairs} pairs: round trips/s`,
          unit: 'round trips/s',
          ours: Math.round(median(dres.signal.map((x) => x.roundTripsPerSec))),
          peer: Math.round(median(dres.socketio.map((x) => x.roundTripsPerSec))),
          peerName: SYSTEMS.socketio.label,
          ratio: +median(dres.signal.map((x, i) => x.roundTripsPerSec / dres.socketio[i].roundTripsPerSec)).toFixed(3),
          better: 'higher',
          target: '>= 1.5',
        });
        rows.push({
          name: `direct messages, ${pairs} pairs: round trip p99`,
          unit: 'ms',
          ours: median(dres.signal.map((x) => x.p99)),
          peer: median(dres.socketio.map((x) => x.p99)),
          peerName: SYSTEMS.socketio.label,
          ratio: +median(dres.signal.map((x, i) => x.p99 / dres.socketio[i].p99)).toFixed(3),
          better: 'lower',
          target: null,
        });
      }
      for (const k of keys) await load.call('close', { tag: `${k}${n}` });
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
}

/**
 * What metrics cost (issue 13): our server with metrics on (the default) and off, fan-out to N=500, interleaved rounds
 * alternating which goes first; the rows' ratios are the medians of on/off per round (target: at most 3% slower).
 * That is the cost of counting; a scrape's own cost is measured apart (server CPU per GET /metrics).
 */
async function metricsCost(load) {
  const n = 500;
  const on = await start(join(ROOT, SYSTEMS.signal.file), { env: ENV, execArgv: ['--expose-gc'] });
  const off = await start(join(ROOT, SYSTEMS.signal.file), { args: ['no-metrics'], env: ENV, execArgv: ['--expose-gc'] });
  const res = { on: [], off: [] };
  try {
    for (const [k, srv] of [['on', on], ['off', off]]) {
      const c = await load.call('connect', { tag: `metrics-${k}`, sys: 'signal', port: srv.info.port, n, sample: 0 }, 120000);
      log(`metrics cost: metrics ${k} connected ${c.clients} clients in ${c.ms} ms`);
    }
    const rounds = QUICK ? 3 : 9;
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 ? ['off', 'on'] : ['on', 'off']) {
        const srv = k === 'on' ? on : off;
        const c0 = await srv.call('cpu');
        const t0 = Date.now();
        const out = await load.call('fanout', { tag: `metrics-${k}`, window: 16, warmMs: 300, durMs: 1500 }, 60000);
        const c1 = await srv.call('cpu');
        // Server CPU per delivery: less swayed than throughput by other processes taking the cores.
        out.cpuUsPerDelivery = +((c1.user + c1.system - c0.user - c0.system) / (out.deliveriesPerSec * (Date.now() - t0) / 1000)).toFixed(3);
        if (out.error) failures.push(`metrics cost ${k}: ${out.error}`);
        res[k].push(out);
        log(`metrics cost round ${r + 1} metrics ${k}: ${out.deliveriesPerSec}/s p50 ${out.p50} ms p99 ${out.p99} ms, server CPU ${out.cpuUsPerDelivery} µs per delivery`);
      }
    }
    // What a scrape costs the server, with the N connections open (Prometheus scrapes every 15-60 s; counted apart).
    const s0 = await on.call('cpu');
    for (let i = 0; i < 10; i++) await (await fetch(`http://127.0.0.1:${on.info.port}/metrics`)).text();
    const s1 = await on.call('cpu');
    const scrapeMs = +((s1.user + s1.system - s0.user - s0.system) / 1000 / 10).toFixed(2);
    log(`metrics cost: one scrape of /metrics with ${n} connections: ${scrapeMs} ms of server CPU`);
    const scrape = await (await fetch(`http://127.0.0.1:${on.info.port}/metrics`)).text();
    const delivered = /^signal_frames_out_total\{method="publish"\} (\d+)/m.exec(scrape)?.[1];
    log(`metrics cost: the metrics-on server counted ${delivered} publish deliveries`);
    raw.metricsCost = res;
    const ratios = res.on.map((x, i) => x.deliveriesPerSec / res.off[i].deliveriesPerSec);
    rows.push({
      name: `fan-out N=${n} deliveries/s, metrics on vs off`,
      unit: 'deliveries/s',
      ours: Math.round(median(res.on.map((x) => x.deliveriesPerSec))),
      peer: Math.round(median(res.off.map((x) => x.deliveriesPerSec))),
      peerName: 'react-signal-service, metrics off',
      ratio: +median(ratios).toFixed(3),
      better: 'higher',
      target: '>= 0.97',
    });
    rows.push({
      name: `fan-out N=${n} server CPU per delivery, metrics on vs off`,
      unit: 'µs',
      ours: median(res.on.map((x) => x.cpuUsPerDelivery)),
      peer: median(res.off.map((x) => x.cpuUsPerDelivery)),
      peerName: 'react-signal-service, metrics off',
      ratio: +median(res.on.map((x, i) => x.cpuUsPerDelivery / res.off[i].cpuUsPerDelivery)).toFixed(3),
      better: 'lower',
      target: '<= 1.03',
    });
    rows.push({ name: `GET /metrics with ${n} connections: server CPU per scrape`, unit: 'ms', ours: scrapeMs, peer: null, peerName: 'target (no peer)', ratio: null, better: 'lower', target: null });
    for (const k of ['on', 'off']) await load.call('close', { tag: `metrics-${k}` });
  } finally {
    await on.stop();
    await off.stop();
  }
}

/**
 * V8's memory reducer gives committed pages back some seconds after a burst (seen at 4–6 s here), so RSS is read
 * after GC once a second for 8 s and the last read counts; the same for every system, before and after.
 */
async function settledMemory(srv) {
  const series = [];
  let last;
  for (let i = 0; i < 9; i++) {
    if (i) await new Promise((r) => setTimeout(r, 1000));
    last = await srv.call('mem');
    series.push(last.rss);
  }
  return { last, series };
}

async function memory(load) {
  const n = QUICK ? 500 : 2000;
  const per = {};
  for (const k of ['signal', 'socketio', 'wsString']) {
    const srv = await startServer(k);
    try {
      const sys = k === 'signal' ? 'signal' : k === 'socketio' ? 'socketio' : 'rpc';
      // Warm the code paths, then measure from an idle baseline.
      await load.call('idle', { tag: `warm${k}`, sys, port: srv.info.port, n: 50 }, 60000);
      await load.call('close', { tag: `warm${k}` });
      const { last: before } = await settledMemory(srv);
      const c = await load.call('idle', { tag: `mem${k}`, sys, port: srv.info.port, n, presence: !argv.includes('--no-presence') }, 180000);
      const { last: after, series } = await settledMemory(srv);
      per[k] = { rss: (after.rss - before.rss) / n, heap: (after.heapUsed - before.heapUsed) / n, before, after, rssSeries: series, connectMs: c.ms };
      log(`memory ${k}: ${(per[k].rss / 1024).toFixed(1)} kB RSS / connection (heap ${(per[k].heap / 1024).toFixed(1)} kB), ${n} joined in ${c.ms} ms, quiet after ${c.quietMs} ms more`);
      await load.call('close', { tag: `mem${k}` });
    } finally {
      await srv.stop();
    }
  }
  raw.memory = per;
  for (const [peer, target] of [['socketio', '<= 0.45'], ['wsString', null]]) {
    // RSS that fell while 2000 connections were added is no reading (the allocator handed back pages kept from the
    // warm-up): such a row has no figure and no verdict, rather than a negative "met".
    const valid = per.signal.rss > 0 && per[peer].rss > 0;
    rows.push({
      name: `memory per idle connection (N=${n}, one ${'presence channel / room'})${valid ? '' : ' [RSS fell during the run: no reading]'}`,
      unit: 'kB RSS',
      ours: valid ? +(per.signal.rss / 1024).toFixed(2) : null,
      peer: +(per[peer].rss / 1024).toFixed(2),
      peerName: SYSTEMS[peer].label,
      ratio: valid ? +(per.signal.rss / per[peer].rss).toFixed(3) : null,
      better: 'lower',
      target,
    });
  }
  for (const peer of ['socketio', 'wsString']) {
    rows.push({
      name: `live JS heap per idle connection (N=${n})`,
      unit: 'kB heap',
      ours: +(per.signal.heap / 1024).toFixed(2),
      peer: +(per[peer].heap / 1024).toFixed(2),
      peerName: SYSTEMS[peer].label,
      ratio: +(per.signal.heap / per[peer].heap).toFixed(3),
      better: 'lower',
      target: null,
    });
  }
}

async function crowd(load) {
  const srv = await startServer('signal');
  try {
    const members = 1000;
    const setup = await load.call('crowdSetup', { tag: 'crowd', port: srv.info.port, n: members, stateBytes: 50 }, 120000);
    log(`crowd: ${members} presence members with state (${setup.stateJson} B JSON each) set up in ${setup.ms} ms`);
    const runs = [];
    for (let i = 0; i < (QUICK ? 3 : 7); i++) {
      const r = await load.call('crowdJoin', { port: srv.info.port, members, run: i }, 60000);
      runs.push(r);
      log(`crowd join run ${i + 1}: full roster with states in ${r.ms} ms (join reply ${r.readyMs} ms)`);
    }
    raw.crowd = { setup, runs };
    rows.push({
      name: `crowd join: full roster of ${members} with states`,
      unit: 'ms',
      ours: median(runs.slice(1).map((r) => r.ms)),
      peer: null,
      peerName: 'target (no peer)',
      ratio: null,
      better: 'lower',
      target: '<= 200 ms',
    });
    await load.call('close', { tag: 'crowd' });
  } finally {
    await srv.stop();
  }
}

async function bundles() {
  const all = await measureBundles();
  raw.bundles = all;
  const peers = all.filter((e) => !e.ours && !e.error);
  for (const e of all.filter((x) => x.forbidden?.length)) failures.push(`bundle ${e.key} contains Node-only inputs: ${e.forbidden.join(', ')}`);
  for (const e of all.filter((x) => x.error)) log(`bundle ${e.key}: ${e.error}`);
  for (const e of all.filter((x) => x.ours)) {
    for (const p of peers) {
      rows.push({
        name: `bundle ${e.name}`,
        unit: 'B min+gz',
        ours: e.pending ? null : e.gz,
        peer: p.gz,
        peerName: p.key,
        ratio: e.pending ? null : +(e.gz / p.gz).toFixed(3),
        better: 'lower',
        target: e.target ? `<= ${(e.target / 1024).toFixed(1)} kB and < 1` : '',
        ...(e.pending ? { pending: `${e.file} not written yet` } : {}),
      });
    }
  }
  log(`bundles: ${all.map((e) => `${e.key} ${e.pending ? 'pending' : e.gz ?? e.error}`).join(', ')}`);
}

function jsonScript(file, label) {
  if (!existsSync(join(ROOT, file))) {
    log(`${label}: ${file} not present, skipped`);
    return null;
  }
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 90000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...ENV } });
    const start = out.search(/[[{]/);
    return JSON.parse(out.slice(start));
  } catch (e) {
    failures.push(`${label}: ${String(e.message ?? e).split('\n')[0]}`);
    return null;
  }
}

const noPeer = { peer: null, peerName: 'target (no peer)', ratio: null };

/** Rows from bench/rerenders.tsx (counts; targets from issue 7). */
function rerenderRows(d) {
  const known = {
    stateUpdateRowRenders: ['re-renders: participant rows re-rendered by one state update among 100', '== 1'],
    typingBurstIndicatorRenders: ['re-renders: TypingIndicator renders per burst of 50 typing calls', '<= 2'],
    stateUpdateListRenders: ['re-renders: participant list renders on that state update', null],
    dmChannelRenders: ['re-renders: channel consumers re-rendered by a direct message', null],
    channelMsgPresenceRenders: ['re-renders: presence consumers re-rendered by a channel message', null],
  };
  for (const [k, v] of Object.entries(d ?? {})) {
    if (typeof v !== 'number') continue;
    const [name, target] = known[k] ?? [`re-renders: ${k}`, null];
    rows.push({ name, unit: 'renders', ours: v, ...noPeer, better: 'lower', target });
  }
}

/** Rows from bench/redis-bench.* (two processes over a real redis-server vs one process). */
function redisRows(d) {
  if (!d || typeof d !== 'object') return;
  const single = 'ours, one process (MemoryBroker)';
  const n = d.members ?? '?';
  if (d.fanoutRedisDeliveriesPerSec != null) {
    rows.push({ name: `fan-out N=${n} across 2 processes over Redis: deliveries/s`, unit: 'deliveries/s', ours: d.fanoutRedisDeliveriesPerSec, peer: d.fanoutSingleDeliveriesPerSec ?? null, peerName: single, ratio: d.fanoutRedisRatio ?? null, better: 'higher', target: null });
  }
  if (d.fanoutRedisP99Ms != null) {
    rows.push({ name: `fan-out N=${n} across 2 processes over Redis: p99`, unit: 'ms', ours: d.fanoutRedisP99Ms, peer: d.fanoutSingleP99Ms ?? null, peerName: single, ratio: d.fanoutRedisP99Ratio ?? null, better: 'lower', target: null });
  }
  if (d.sigkillToLeaveMs != null) {
    rows.push({ name: 'Redis: a SIGKILLed process\'s members leave presence after', unit: 'ms', ours: d.sigkillToLeaveMs, ...noPeer, better: 'lower', target: d.ttlMs != null ? `<= ${d.ttlMs} ms` : null });
  }
}

/** Rows from bench/http-publish.mjs: the HTTP server API's publish beside a WebSocket publisher, same run. */
function httpApiRows(d) {
  if (!d || typeof d !== 'object') return;
  const ws = `WebSocket publisher (signal.publish), window ${d.window}`;
  const n = d.members;
  rows.push({ name: `HTTP API publish into ${n} members: publishes/s`, unit: 'requests/s', ours: d.httpRequestsPerSec, peer: d.wsRequestsPerSec, peerName: ws, ratio: +(d.httpRequestsPerSec / d.wsRequestsPerSec).toFixed(3), better: 'higher', target: null });
  rows.push({ name: `HTTP API publish into ${n} members: deliveries/s`, unit: 'deliveries/s', ours: d.httpDeliveriesPerSec, peer: d.wsDeliveriesPerSec, peerName: ws, ratio: +(d.httpDeliveriesPerSec / d.wsDeliveriesPerSec).toFixed(3), better: 'higher', target: null });
  rows.push({ name: `HTTP API publish into ${n} members: p99 request to last delivery`, unit: 'ms', ours: d.httpP99Ms, peer: d.wsP99Ms, peerName: ws, ratio: +(d.httpP99Ms / d.wsP99Ms).toFixed(3), better: 'lower', target: null });
}

/** Rows from bench/webhook-bench.mjs (webhook delivery latency, two processes over Redis). */
function webhookRows(d) {
  if (!d || typeof d !== 'object' || d.transitionP99Ms == null) return;
  const what = `${d.processes} processes over Redis, batchDelayMs ${d.batchDelayMs}, ${d.delivered}/${d.events} events`;
  rows.push({ name: `webhook delivery p99: transition -> receiver (${what})`, unit: 'ms', ours: d.transitionP99Ms, ...noPeer, better: 'lower', target: null });
  rows.push({ name: `webhook delivery p99: client's join/leave request -> receiver (${what})`, unit: 'ms', ours: d.requestP99Ms, ...noPeer, better: 'lower', target: null });
}

async function main() {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  // Our server runs from dist/ (what users install), so build it from the current src/ first.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (PROFILE) mkdirSync(PROFILE_DIR, { recursive: true });
  const needLoad = want('fanout') || want('metrics') || want('memory') || want('crowd');
  const load = needLoad ? await start(join(ROOT, 'bench', 'load.mjs'), { env: ENV, execArgv: ['--max-old-space-size=2048'] }) : null;
  try {
    if (want('fanout')) await fanoutAndDm(load);
    if (want('metrics')) await metricsCost(load);
    if (want('memory')) await memory(load);
    if (want('crowd')) await crowd(load);
  } finally {
    await load?.stop();
  }
  // Issue 16 (bench/scale.mjs): scale, connrate, storm, scale100k.
  if (['scale', 'connrate', 'storm', 'scale100k'].some(want)) await scaleBench({ ROOT, ENV, QUICK, want, log, rows, raw, failures });
  if (want('bundles')) await bundles();
  if (want('rerenders')) {
    const r = jsonScript('bench/rerenders.tsx', 're-renders');
    raw.rerenders = r;
    if (r) rerenderRows(r);
  }
  if (want('redis')) {
    const f = existsSync(join(ROOT, 'bench')) && readdirSync(join(ROOT, 'bench')).find((x) => /^redis-bench\.(m?[jt]sx?)$/.test(x));
    const r = f ? jsonScript(`bench/${f}`, 'redis') : (log('redis: bench/redis-bench.* not present, skipped'), null);
    raw.redis = r;
    if (r) redisRows(r);
  }
  if (want('httpapi')) {
    const r = jsonScript('bench/http-publish.mjs', 'http api');
    raw.httpApi = r;
    if (r) httpApiRows(r);
  }
  if (want('webhooks')) {
    const r = jsonScript('bench/webhook-bench.mjs', 'webhooks');
    raw.webhooks = r;
    if (r) webhookRows(r);
  }
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
  const date = new Date().toISOString();
  const seconds = Math.round((Date.now() - tStart) / 1000);
  const partial = QUICK || ONLY !== null;
  const file = partial ? 'partial.json' : 'latest.json';
  writeFileSync(join(ROOT, 'bench', 'results', file), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(ROOT, 'bench', 'results', partial ? 'partial-raw.json' : 'latest-raw.json'), JSON.stringify({ machine, date, seconds, raw, failures }, null, 2) + '\n');
  writeReport({ rows, machine, date, seconds, failures, write: !partial, bundles: raw.bundles ?? [] });
  if (failures.length) {
    console.error(`\nbench FAILED:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

await main();
