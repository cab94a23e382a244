// Diagnosis: direct-message rounds only (ours vs Socket.IO), N=2000. node bench/dm-only.mjs [rounds] [--profile]
import { join, resolve } from 'node:path';
import { start } from './lib/proc.mjs';
const ROOT = resolve(import.meta.dirname, '..');
const ENV = { BENCH_SECRET: 'x' + Math.random() };
const rounds = Number(process.argv[2] ?? 5);
const prof = process.argv.includes('--profile');
const SYS = process.argv.includes('--ours') ? ['signal'] : ['signal', 'socketio'];
const srv = {
  signal: await start(join(ROOT, 'bench/servers/signal.mjs'), { env: ENV, execArgv: prof ? ['--cpu-prof', '--cpu-prof-dir=/tmp/b/prof'] : [] }),
  socketio: await start(join(ROOT, 'bench/servers/socketio.mjs'), { env: ENV }),
};
const load = await start(join(ROOT, 'bench/load.mjs'), { env: ENV, execArgv: ['--max-old-space-size=2048', ...(process.argv.includes('--profile-load') ? ['--cpu-prof', '--cpu-prof-dir=/tmp/b/lprof'] : [])] });
try {
  for (const k of SYS) await load.call('connect', { tag: k, sys: k, port: srv[k].info.port, n: 2000, sample: 0 }, 120000);
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const out = {};
    for (const k of SYS.length === 1 ? SYS : r % 2 ? ['socketio', 'signal'] : ['signal', 'socketio']) {
      const c0 = await srv[k].call('cpu'); const t0 = Date.now();
      out[k] = await load.call('dm', { tag: k, pairs: 1000, warmMs: 300, durMs: 1500 }, 60000);
      const c1 = await srv[k].call('cpu');
      out[k].cpu = ((c1.user + c1.system - c0.user - c0.system) / 1000 / (Date.now() - t0)).toFixed(2);
    }
    if (!out.socketio) { console.log(`round ${r + 1}: ours ${out.signal.roundTripsPerSec} (cpu ${out.signal.cpu}, load ${out.signal.loadCpu})`); continue; }
    ratios.push(out.signal.roundTripsPerSec / out.socketio.roundTripsPerSec);
    console.log(`round ${r + 1}: ours ${out.signal.roundTripsPerSec} (cpu ${out.signal.cpu}, load ${out.signal.loadCpu}) sio ${out.socketio.roundTripsPerSec} (cpu ${out.socketio.cpu}, load ${out.socketio.loadCpu}) ratio ${ratios.at(-1).toFixed(2)}`);
  }
  if (ratios.length) {
  ratios.sort((a, b) => a - b);
  console.log('median ratio', ratios[Math.floor(ratios.length / 2)].toFixed(3));
  }
} finally {
  await load.stop(); for (const s of Object.values(srv)) await s.stop();
}
