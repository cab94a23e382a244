// HTTP server API publish vs a WebSocket publisher, into one channel of N members, in the same run (issue 14).
// Our server (bench/servers/signal.mjs, from dist/) in its own process; N raw `ws` receivers and both publishers in
// this one. Each publisher keeps WINDOW publishes in flight (HTTP: POST /api/v1/publish on keep-alive sockets; WS: a
// member's `signal.publish` requests, answered once fanned out). Latency: from the request's start to the last of
// the N deliveries of that message. Rounds alternate HTTP and WS. Prints one JSON object.
//   node --import tsx bench/http-publish.mjs   (bench/run.mjs --only httpapi runs it and adds its rows)
import http from 'node:http';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { signAccessToken } from '../dist/server/index.js';
import { start } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const N = Number(process.env.BENCH_API_MEMBERS ?? 500);
const WINDOW = Number(process.env.BENCH_API_WINDOW ?? 8);
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 3);
const DUR_MS = 2000;
const WARM_MS = 300;
const SECRET = process.env.BENCH_SECRET ?? 'bench-secret';
const KEY = 'bench-api-key-' + Math.random().toString(36).slice(2).padEnd(12, 'x');
const CH = 'bench-room';
const log = (...a) => console.error('[http-api bench]', ...a);

const srv = await start(join(ROOT, 'bench/servers/signal.mjs'), { env: { BENCH_SECRET: SECRET, BENCH_API_KEY: KEY }, execArgv: ['--expose-gc'] });
const base = `http://127.0.0.1:${srv.info.port}`;
const sockets = [];

/** seq -> { t0, n, last } while a message is being delivered. */
const inflight = new Map();
let deliveries = 0;
const done = []; // latencies (ms) of fully delivered messages in the measured window
let measuring = false;

function onFrame(data) {
  const text = data.toString();
  const i = text.indexOf('"seq":');
  if (i < 0) return;
  const seq = parseInt(text.slice(i + 6), 10);
  const m = inflight.get(seq);
  if (!m) return;
  deliveries++;
  if (++m.n === N) {
    inflight.delete(seq);
    if (measuring && m.t0 >= 0) done.push(performance.now() - m.t0);
  }
}

async function member(identity, onMessage) {
  const jwt = await signAccessToken({ secret: SECRET, identity, device: 'd', audience: base });
  const ws = new WebSocket(`${base.replace('http', 'ws')}/signal/v1/pubsub?jwt=${jwt}`);
  sockets.push(ws);
  ws.on('error', () => {});
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('close', (c) => rej(new Error(`closed ${c}`)));
  });
  const joined = new Promise((res) => {
    const f = (d) => {
      if (String(d).includes('"id":"j"')) {
        ws.off('message', f);
        res();
      }
    };
    ws.on('message', f);
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.join', params: { id: CH }, id: 'j' }));
  await joined;
  ws.on('message', onMessage);
  return ws;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: WINDOW, noDelay: true });
function httpPublish(seq) {
  return new Promise((res, rej) => {
    const body = JSON.stringify({ channel: CH, payload: { seq, text: 'hello from the backend' } });
    const req = http.request(`${base}/api/v1/publish`, { method: 'POST', agent, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (r) => {
      r.resume();
      r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(`HTTP ${r.statusCode}`))));
    });
    req.on('error', rej);
    req.end(body);
  });
}

let pubWs;
const wsWaiting = new Map();
function wsPublish(seq) {
  return new Promise((res) => {
    wsWaiting.set(seq, res);
    pubWs.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: CH, seq, text: 'hello from the backend' }, id: seq }));
  });
}

let seqNo = 1;
async function round(kind) {
  const publish = kind === 'http' ? httpPublish : wsPublish;
  done.length = 0;
  deliveries = 0;
  let requests = 0;
  measuring = false;
  const tStart = performance.now();
  let tMeasure = tStart + WARM_MS;
  const tEnd = tMeasure + DUR_MS;
  let d0 = 0;
  const worker = async () => {
    while (performance.now() < tEnd) {
      const now = performance.now();
      if (!measuring && now >= tMeasure) {
        measuring = true;
        tMeasure = now;
        d0 = deliveries;
        requests = 0;
      }
      const seq = seqNo++;
      inflight.set(seq, { t0: measuring ? performance.now() : -1, n: 0 });
      await publish(seq);
      if (measuring) requests++;
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const elapsed = (performance.now() - tMeasure) / 1000;
  const got = deliveries - d0;
  // Let the tail arrive (and count in the latencies), then forget the rest.
  const until = Date.now() + 5000;
  while (inflight.size && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  measuring = false;
  const lost = inflight.size;
  inflight.clear();
  const lat = [...done].sort((a, b) => a - b);
  const q = (p) => +(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN).toFixed(2);
  const out = { kind, requestsPerSec: Math.round(requests / elapsed), deliveriesPerSec: Math.round(got / elapsed), p50: q(0.5), p99: q(0.99), messages: lat.length, incomplete: lost };
  log(`${kind}: ${out.requestsPerSec} publishes/s, ${out.deliveriesPerSec} deliveries/s, p50 ${out.p50} ms p99 ${out.p99} ms (${out.messages} messages${lost ? `, ${lost} incomplete` : ''})`);
  return out;
}

try {
  for (let i = 0; i < N; i++) await member(`m${i}`, onFrame);
  pubWs = await member('publisher', (d) => {
    const t = String(d);
    const m = /"id":(\d+),"result"/.exec(t) ?? /"id":(\d+)/.exec(t);
    if (t.includes('"result"') && m) {
      const r = wsWaiting.get(Number(m[1]));
      wsWaiting.delete(Number(m[1]));
      r?.();
    }
  });
  log(`${N} members + 1 WebSocket publisher joined ${CH}`);
  const res = { http: [], ws: [] };
  for (let r = 0; r < ROUNDS; r++) for (const k of r % 2 ? ['ws', 'http'] : ['http', 'ws']) res[k].push(await round(k));
  const med = (k, f) => median(res[k].map((x) => x[f]));
  process.stdout.write(
    JSON.stringify({
      members: N,
      window: WINDOW,
      httpRequestsPerSec: med('http', 'requestsPerSec'),
      httpDeliveriesPerSec: med('http', 'deliveriesPerSec'),
      httpP99Ms: med('http', 'p99'),
      httpP50Ms: med('http', 'p50'),
      wsRequestsPerSec: med('ws', 'requestsPerSec'),
      wsDeliveriesPerSec: med('ws', 'deliveriesPerSec'),
      wsP99Ms: med('ws', 'p99'),
      wsP50Ms: med('ws', 'p50'),
      rounds: res,
    }) + '\n',
  );
} finally {
  for (const ws of sockets) ws.terminate();
  agent.destroy();
  await srv.stop();
}
