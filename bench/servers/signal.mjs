// Our server: createSignalServer on ws (the real adapter, real core), rate limits raised for the load.
// The built package (dist/, as users run it; bench/run.mjs builds it first), not src/ through the tsx loader.
import { createSignalServer } from '../../dist/server/index.js';
import { memory, serve } from '../lib/proc.mjs';

// `node signal.mjs no-metrics`: metrics off (the metrics-cost row compares it with the default, metrics on).
const server = createSignalServer({
  secret: process.env.BENCH_SECRET ?? 'bench-secret',
  metrics: !process.argv.includes('no-metrics'),
  // The default per-connection limit (50 frames/s) would refuse a benchmark publisher; lifted here.
  limits: { framesPerSecond: 1e9, frameBurst: 1e9, bytesPerSecond: 1e12, byteBurst: 1e12, maxConnectionsPerIdentity: 1e9 },
  ...(process.env.BENCH_API_KEY ? { apiKeys: [process.env.BENCH_API_KEY] } : {}), // the HTTP server API row (http-publish.mjs)
});
const { port } = await server.listen(0, '127.0.0.1');
serve({ snap: async () => (await import('node:v8')).writeHeapSnapshot((await import('node:path')).join((await import('node:os')).tmpdir(), 'signal-bench.heapsnapshot')), cpu: () => process.cpuUsage(), mem: () => memory(), stats: () => server.stats(), exit: () => server.close() });
process.send({ ready: true, port });
