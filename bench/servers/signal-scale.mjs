// Our server for the scale rows: the built package on ws, default heartbeat and presence settings, the per-connection
// and per-identity caps lifted for the load; with SCALE_REDIS_URL, a RedisBroker node (several such processes share it).
import { createSignalServer, RedisBroker } from '../../dist/server/index.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { memory, serve } from '../lib/proc.mjs';

const redis = process.env.SCALE_REDIS_URL;
const server = createSignalServer({
  secret: process.env.BENCH_SECRET ?? 'bench-secret',
  ...(redis ? { broker: new RedisBroker({ url: redis }) } : {}),
  // SCALE_LIMITS (JSON): further overrides, for diagnosis (e.g. the heartbeat off).
  limits: { framesPerSecond: 1e9, frameBurst: 1e9, bytesPerSecond: 1e12, byteBurst: 1e12, maxConnectionsPerIdentity: 1e9, ...JSON.parse(process.env.SCALE_LIMITS ?? '{}') },
});
const { port } = await server.listen(0, '127.0.0.1');
const delay = monitorEventLoopDelay({ resolution: 20 });
delay.enable();
const lag = () => {
  const out = { max: +(delay.max / 1e6).toFixed(0), p99: +(delay.percentile(99) / 1e6).toFixed(0) };
  delay.reset();
  return out;
};
serve({ lag, cpu: () => process.cpuUsage(), mem: () => memory(), stats: () => server.stats(), exit: () => server.close() });
process.send({ ready: true, port });
