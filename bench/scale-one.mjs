// Diagnosis aid (not part of `npm run bench`): the `scale` row for our server alone, at any count, optionally with a
// CPU profile of the server's idle period. Usage:
//   node bench/scale-one.mjs [--n 19000] [--idle-ms 30000] [--loaders 2] [--prof DIR] [--redis --servers 2]
// Prints the connect time, RSS per connection and idle CPU of the server(s) and of the load generators.
import { join, dirname } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { start } from './lib/proc.mjs';
import { startRedisServer } from '../scripts/redis-test-server.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const N = Number(arg('--n', 19000));
const IDLE = Number(arg('--idle-ms', 30000));
const L = Number(arg('--loaders', 2));
const PROF = arg('--prof', null);
const useRedis = argv.includes('--redis');
const P = Number(arg('--servers', 1));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const WRAP = join(ROOT, 'bench', 'lib', 'node-ulimit.sh');
const ENV = { BENCH_SECRET: 'bench-secret', ...(arg('--limits', null) ? { SCALE_LIMITS: arg('--limits', null) } : {}) };

const redis = useRedis ? await startRedisServer() : null;
const execArgv = ['--expose-gc', ...(PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : [])];
const srvs = await Promise.all(Array.from({ length: P }, () => start(join(ROOT, 'bench', 'servers', 'signal-scale.mjs'), { env: { ...ENV, ...(redis ? { SCALE_REDIS_URL: redis.url } : {}) }, execArgv, execPath: WRAP, readyTimeoutMs: 30000 })));
const ls = await Promise.all(Array.from({ length: L }, (_, j) => start(join(ROOT, 'bench', 'scale-load.mjs'), { env: { ...ENV, SCALE_LOCAL_ADDRESS: `127.0.0.${2 + j}`, SCALE_LOAD_PRIORITY: '-5' }, execArgv: ['--max-old-space-size=3072'], execPath: WRAP })));
/** Per-thread CPU ticks of `pid`: tid -> {name, u, s}. */
function threads(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(') ') + 2).split(' ');
      out.set(tid, { name, u: Number(f[11]), s: Number(f[12]) });
    } catch {}
  }
  return out;
}
const cpuOf = (ps) => Promise.all(ps.map((p) => p.call('cpu')));
const pctOf = (c0, c1, ms) => c1.map((c, i) => +((100 * (c.user + c.system - c0[i].user - c0[i].system)) / 1000 / ms).toFixed(2));
try {
  const ports = srvs.map((s) => s.info.port);
  const before = await Promise.all(srvs.map((s) => s.call('mem')));
  const per = Math.ceil(N / L);
  const t0 = Date.now();
  // Event-loop delay of every process, every 5 s while connecting (a late pong is a late event loop somewhere).
  const lagLog = setInterval(async () => {
    const [a, b, pr, st] = await Promise.all([Promise.all(srvs.map((x) => x.call('lag'))), Promise.all(ls.map((x) => x.call('lag'))), Promise.all(ls.map((x) => x.call('progress'))), Promise.all(srvs.map((x) => x.call('stats')))]).catch(() => [[], [], [], []]);
    const sum = (k) => pr.reduce((s, x) => s + x[k], 0);
    const errs = {};
    for (const x of pr) for (const [m, c] of Object.entries(x.errors)) errs[m] = (errs[m] ?? 0) + c;
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s: loaders done ${sum('done')} failed ${sum('failed')} in flight ${sum('inflight')} ${JSON.stringify(errs)}; servers hold ${st.map((x) => x.connections).join('+')}`);
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s: loop delay max/p99 ms: servers ${a.map((x) => `${x.max}/${x.p99}`).join(' ')}; loaders ${b.map((x) => `${x.max}/${x.p99}`).join(' ')}; closed by server (seen by loaders) ${JSON.stringify(b.map((x) => x.closedByServer))}`);
  }, Number(arg('--every', 5000)));
  const opened = await Promise.all(ls.map((l, j) => l.call('open', { tag: 'idle', ports, from: j * per, n: Math.min(per, N - j * per), channels: 1000, conc: Number(arg('--conc', 200)), tolerate: true }, 1_800_000)));
  const connectMs = Date.now() - t0;
  clearInterval(lagLog);
  console.log(`opened ${opened.map((o) => `${o.opened} (failed ${o.failed}${o.firstError ? `: ${o.firstError}` : ''})`).join(' + ')} in ${connectMs} ms`);
  await sleep(3000);
  const after = await Promise.all(srvs.map((s) => s.call('mem')));
  const stats = await Promise.all(srvs.map((s) => s.call('stats')));
  console.log(`servers hold ${stats.map((s) => s.connections).join(' + ')}; RSS/conn ${after.map((a, i) => ((a.rss - before[i].rss) / (N / P) / 1024).toFixed(2)).join(', ')} kB`);
  const th0 = srvs.map((s) => threads(s.pid));
  const s0 = await cpuOf(srvs), l0 = await cpuOf(ls), t1 = Date.now();
  const load0 = (await import('node:os')).loadavg()[0];
  await sleep(IDLE);
  const s1 = await cpuOf(srvs), l1 = await cpuOf(ls), ms = Date.now() - t1;
  const sp = pctOf(s0, s1, ms);
  console.log(`idle CPU over ${ms} ms: servers ${sp.join(' + ')} = ${sp.reduce((a, b) => a + b, 0).toFixed(2)}% of a core; loaders ${pctOf(l0, l1, ms).join(' + ')}%; loadavg ${load0.toFixed(2)} -> ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
  srvs.forEach((s, i) => {
    const th1 = threads(s.pid);
    const rows = [...th1].map(([tid, v]) => { const b = th0[i].get(tid) ?? { name: v.name, u: 0, s: 0 }; return `${v.name}: user ${((v.u - b.u) * 1000 / ms).toFixed(1)}% sys ${((v.s - b.s) * 1000 / ms).toFixed(1)}%`; });
    console.log(`server ${i} threads (ticks at 100/s): ${rows.filter((r) => !/user 0.0% sys 0.0%/.test(r)).join('; ')}`);
  });
  console.log(`server user/system: ${s1.map((c, i) => `${((c.user - s0[i].user) / 10 / ms).toFixed(2)}/${((c.system - s0[i].system) / 10 / ms).toFixed(2)}`).join(', ')}%`);
  const stats2 = await Promise.all(srvs.map((s) => s.call('stats')));
  for (const s of srvs) {
    const text = await (await fetch(`http://127.0.0.1:${s.info.port}/metrics`)).text();
    console.log(`server :${s.info.port} ` + text.split('\n').filter((l) => /^signal_(connections_(opened|closed)|slow_consumer|broker_reconnects)/.test(l)).join('  '));
  }
  console.log(`servers hold ${stats2.map((s) => s.connections).join(' + ')} after idling`);
  // Clients first, so the servers exit with nothing to close (in time to write their profiles).
  await Promise.all(ls.map((l) => l.call('close', { tag: 'idle' })));
  await sleep(PROF ? 5000 : 1000);
} finally {
  await Promise.all([...ls, ...srvs].map((p) => p.stop()));
  await redis?.stop();
}
