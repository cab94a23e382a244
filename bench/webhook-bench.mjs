// Webhook delivery latency: from the transition (the event's timestamp, taken on the server when its count moved;
// same machine, same clock) to the event at a real receiver that verifies every POST; and from the client's request
// (join or leave sent) to the receiver. Two server processes over a private redis-server (the CLI, default webhook settings:
// batchDelayMs 50), clients spread over them, each its own identity, paced. Prints one JSON line.
//   node bench/webhook-bench.mjs [--members 200]
// Needs redis-server on PATH and dist/ (built when missing). Kills only what it started.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startRedisServer } from '../scripts/redis-test-server.mjs';
import { pct } from './lib/stats.mjs';

const { values } = parseArgs({ options: { members: { type: 'string' } } });
const MEMBERS = Number(values.members ?? 200);
const SECRET = 'webhook-bench-secret';
const HOOK_SECRET = 'webhook-bench-signing-secret';

if (!existsSync('dist/cli/main.js')) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const { signAccessToken, verifyWebhook } = await import('../dist/server/index.js');

const started = [];
const sockets = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function serve(redisUrl, hookUrl) {
  const args = ['bin/react-signal-service.js', 'serve', '--port', '0', '--secret', SECRET, '--redis', redisUrl, '--webhook', hookUrl];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIGNAL_WEBHOOK_SECRET: HOOK_SECRET } });
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

async function client(url, identity) {
  const jwt = await signAccessToken({ secret: SECRET, identity, device: 'b', audience: url });
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/signal/v1/pubsub?jwt=${jwt}`, { perMessageDeflate: false });
  sockets.add(ws);
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connect timeout')), 10_000);
    ws.once('open', () => (clearTimeout(t), resolve()));
  });
  return ws;
}

/** The receiver: arrival time of each event by `type identity`. */
function receiver() {
  const arrived = new Map();
  const fromTransition = [];
  let invalid = 0;
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('error', () => {});
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      const v = verifyWebhook(Buffer.concat(chunks).toString('utf8'), req.headers, HOOK_SECRET);
      if (!v.ok) invalid++;
      else {
        const wall = Date.now();
        for (const e of v.events) {
          if (e.data.identity) arrived.set(`${e.type} ${e.data.identity}`, now);
          if (e.data.channel === 'room') fromTransition.push(wall - Date.parse(e.timestamp));
        }
      }
      res.writeHead(v.ok ? 204 : 401).end();
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, arrived, fromTransition, url: `http://127.0.0.1:${srv.address().port}/h`, invalid: () => invalid })));
}

async function main() {
  const redis = await startRedisServer();
  const rec = await receiver();
  try {
    const servers = await Promise.all([serve(redis.url, rec.url), serve(redis.url, rec.url)]);
    const ws = [];
    for (let i = 0; i < MEMBERS; i++) ws.push(await client(servers[i % 2].url, `u${i}`));
    // Warm-up (first fetch in each process loads undici; first Redis scripts load): not measured.
    for (const w of ws.slice(0, 4)) w.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'warm' } }));
    await sleep(1500);
    const sent = new Map();
    const send = (w, method, i) => {
      sent.set(`${method === 'signal.join' ? 'member.joined' : 'member.left'} u${i}`, performance.now());
      w.send(JSON.stringify({ jsonrpc: '2.0', method, params: { id: 'room' } }));
    };
    for (let i = 0; i < MEMBERS; i++) {
      send(ws[i], 'signal.join', i);
      await sleep(5);
    }
    await sleep(1000);
    for (let i = 0; i < MEMBERS; i++) {
      send(ws[i], 'signal.leave', i);
      await sleep(5);
    }
    const deadline = Date.now() + 10_000;
    while (rec.arrived.size < 2 * MEMBERS && Date.now() < deadline) await sleep(50);
    const tr = rec.fromTransition.sort((a, b) => a - b);
    const lat = [...sent].filter(([k]) => rec.arrived.has(k)).map(([k, t]) => rec.arrived.get(k) - t).sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        members: MEMBERS,
        processes: 2,
        events: 2 * MEMBERS,
        delivered: lat.length,
        invalid: rec.invalid(),
        transitionP50Ms: pct(tr, 50),
        transitionP99Ms: pct(tr, 99),
        transitionMaxMs: tr.at(-1),
        requestP50Ms: +pct(lat, 50).toFixed(1),
        requestP99Ms: +pct(lat, 99).toFixed(1),
        batchDelayMs: 50,
      }),
    );
  } finally {
    for (const s of sockets) s.terminate();
    for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
    rec.srv.closeAllConnections();
    rec.srv.close();
    await redis.kill();
  }
}

await main();
