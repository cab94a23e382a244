// Scale load generator: one child process (of several) holding up to ~19k raw clients, bound to its own loopback
// source address (127.0.0.2, 127.0.0.3, …: the ephemeral port range allows ~28k per address). Commands over IPC
// (lib/proc.mjs `serve`): open idle members, measure the connection rate, join a presence storm, sample rosters,
// publish and time deliveries. Raw `ws` clients (they answer pings), frames parsed only where a workload reads them.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setPriority } from 'node:os';
import { WebSocket } from 'ws';
import { signAccessToken } from '../src/server/auth.ts';
import { serve } from './lib/proc.mjs';
import { pct } from './lib/stats.mjs';

// The generators stand for clients on machines of their own. On one shared machine with several servers they are
// starved of CPU (a GC pause of a few hundred ms stretched to seconds), and a client that answers the server's ping
// seconds late looks dead to the heartbeat: measured at 40k over 3 servers, generator stalls of 5 s dropped
// thousands of honest connections. So in that row (bench/scale.mjs sets SCALE_LOAD_PRIORITY) they run at a higher
// scheduling priority than the servers, where permitted. Not in the single-server rows: there a raised generator takes
// CPU from the one server it measures (the 1,000-member presence storm took 2.6 s instead of 0.7 s).
if (process.env.SCALE_LOAD_PRIORITY) {
  try {
    setPriority(Number(process.env.SCALE_LOAD_PRIORITY));
  } catch {
    console.error('scale-load: could not raise the scheduling priority (not permitted); its clients may answer pings late');
  }
}

const SECRET = process.env.BENCH_SECRET ?? 'bench-secret';
const LOCAL = process.env.SCALE_LOCAL_ADDRESS || undefined;
const zeroMask = (mask) => mask.fill(0);
const WS_OPTS = { perMessageDeflate: false, skipUTF8Validation: true, generateMask: zeroMask };

// Source ports. Bound to a source address with port 0, every connect makes the kernel search for a free port of that
// address (bind-time allocation, not per destination), and the search grows with the ports in use: measured here,
// 0.5 ms of kernel time per connection at 1,000 held, 2 ms at 6,000 (against 0.05 ms with an explicit port). At
// 100,000 over 6 generators that was minutes of system time, and the last connections crawled. So each generator
// (the only user of its address) hands out ports itself, round robin from a random start, skipping those it holds;
// a port still taken (TIME_WAIT of an earlier row) is skipped on EADDRINUSE.
const PORT_LO = 10_000;
const PORT_HI = 65_000;
const heldPorts = new Set();
let nextPort = PORT_LO + Math.floor(Math.random() * (PORT_HI - PORT_LO));
function takePort() {
  for (let i = 0; i < PORT_HI - PORT_LO; i++) {
    const p = nextPort;
    nextPort = nextPort + 1 >= PORT_HI ? PORT_LO : nextPort + 1;
    if (!heldPorts.has(p)) return (heldPorts.add(p), p);
  }
  throw new Error('no free source port');
}

const now = () => performance.now();
/** Wall clock in ms with sub-ms precision, comparable across processes on one machine. */
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Connections of ours closed while held (not by `close`), by close code. */
const closedBy = new Map();
/** All clients held, by group tag. */
const groups = new Map();

async function token(port, identity) {
  return signAccessToken({ secret: SECRET, identity, device: 'd', audience: `http://127.0.0.1:${port}` });
}

/**
 * A WebSocket to `url` from this generator's source address (if it has one). `onOpen(ws)` runs inside the `open`
 * event (before any frame can be emitted); the promise settles then, or rejects on a connect error.
 */
function connect(url, onOpen = () => {}, tries = 20) {
  return new Promise((resolve, reject) => {
    const port = LOCAL ? takePort() : 0;
    const ws = new WebSocket(url, LOCAL ? { ...WS_OPTS, localAddress: LOCAL, localPort: port } : WS_OPTS);
    if (port) ws.once('close', () => heldPorts.delete(port));
    ws.on('error', (e) => {
      if (e.code === 'EADDRINUSE' && tries > 1) return resolve(connect(url, onOpen, tries - 1));
      reject(e);
    });
    ws.on('open', () => (onOpen(ws), resolve(ws)));
  });
}

/**
 * One of our raw clients: connect, join `channel` (a request), resolve with the join reply time. `watch`: keep the
 * roster (join/join_back/leave/presence batches) and time publishes (`"t":` wall ms) for this client.
 */
function ourClient(port, jwt, channel, presence, { watch = false, batch = false } = {}) {
  const t0 = now();
  const c = { ws: null, channel, presence, address: '', roster: watch ? new Set() : null, lat: watch ? [] : null, connectMs: 0, frames: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => ((c.timedOut = true), c.ws?.terminate(), reject(new Error('connect/join timeout'))), 60000);
    const fail = (e) => (clearTimeout(timer), reject(e));
    connect(`ws://127.0.0.1:${port}/signal/v1/pubsub?jwt=${jwt}`, (ws) => {
      c.ws = ws;
      if (c.timedOut) return ws.terminate();
      ws.on('error', fail);
      ws.on('close', (code) => !c.address && fail(new Error(`closed (${code}) before the join reply`)));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'signal.join', params: { id: channel, presence, ...(batch ? { batch: true } : {}) } }));
      ws.on('message', (buf) => {
        c.frames++;
        if (!c.address) {
          const m = JSON.parse(buf.toString());
          if (m.id === 1) {
            clearTimeout(timer);
            if (m.error) return reject(new Error(m.error.message));
            c.address = m.result.address;
            c.connectMs = now() - t0;
            ws.on('close', (code) => !c.closing && closedBy.set(code, (closedBy.get(code) ?? 0) + 1));
            return resolve(c);
          }
          if (c.roster) onNote(c, m);
          return;
        }
        if (c.roster) onNote(c, JSON.parse(buf.toString()));
      });
    }).catch(fail);
  });
}

function onNote(c, m) {
  const p = m.params;
  if (!p) return;
  if (m.method === 'signal.join' || m.method === 'signal.join_back') c.roster.add(p.from);
  else if (m.method === 'signal.leave') c.roster.delete(p.from);
  else if (m.method === 'signal.presence') {
    for (const e of p.members ?? []) c.roster.add(e[0]);
    for (const a of p.left ?? []) c.roster.delete(a);
  } else if (m.method === 'signal.publish' && typeof p.t === 'number') c.lat.push(wall() - p.t);
}

/** A raw Socket.IO v5 client: resolves once connected to the main namespace (`?room=1` joins the room). */
function sioClient(port) {
  const t0 = now();
  const c = { ws: null, connectMs: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => ((c.timedOut = true), c.ws?.terminate(), reject(new Error('socket.io connect timeout'))), 60000);
    const fail = (e) => (clearTimeout(timer), reject(e));
    connect(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&room=1`, (ws) => {
      c.ws = ws;
      if (c.timedOut) return ws.terminate();
      ws.on('error', fail);
      ws.on('message', (buf) => {
        const b0 = buf[0];
        if (b0 === 0x32 && buf.length === 1) ws.send('3');
        else if (b0 === 0x30) ws.send('40');
        else if (b0 === 0x34 && buf[1] === 0x30) {
          clearTimeout(timer);
          c.connectMs = now() - t0;
          resolve(c);
        }
      });
    }).catch(fail);
  });
}

/** Progress of the pools of this process (the `progress` command: where a slow `open` stands). */
const progress = { started: 0, done: 0, failed: 0, inflight: 0, errors: {} };

/** Run `count` tasks made by `make(i)` with at most `conc` in flight; `tolerate`: failures are counted, not thrown. */
async function pool(count, conc, make, tolerate = false) {
  const out = new Array(count);
  let next = 0;
  const errors = [];
  const worker = async () => {
    while (next < count) {
      const i = next++;
      progress.started++;
      progress.inflight++;
      try {
        out[i] = await make(i);
        progress.done++;
      } catch (e) {
        const m = String(e.message ?? e);
        errors.push(m);
        progress.failed++;
        progress.errors[m] = (progress.errors[m] ?? 0) + 1;
      } finally {
        progress.inflight--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, count) }, worker));
  if (errors.length && !tolerate) throw new Error(`${errors.length} of ${count} failed, first: ${errors[0]}`);
  out.failed = errors.length;
  out.firstError = errors[0];
  return out;
}

/**
 * Open idle clients: client `i` (of `from..from+n`) joins channel `ch${i % channels}`, with presence when `i` is
 * even, on `ports[floor(i / channels) % ports.length]` (so each channel's members sit on every server). Members of
 * the channels listed in `watch` keep their roster. Tokens are signed first, then connections opened `conc` at a time.
 */
async function open({ tag, sys = 'signal', ports, from = 0, n, channels = 1000, conc = 200, watch = [], batch = false, tolerate = false }) {
  const watched = new Set(watch);
  const t0 = now();
  let clients;
  if (sys === 'socketio') clients = await pool(n, conc, () => sioClient(ports[0]));
  else {
    const jwts = await Promise.all(Array.from({ length: n }, (_, k) => token(ports[0], `${tag}u${from + k}`)));
    clients = await pool(n, conc, (k) => {
      const i = from + k;
      const ch = i % channels;
      const port = ports[Math.floor(i / channels) % ports.length];
      return ourClient(port, jwts[k], `ch${ch}`, i % 2 === 0, { watch: watched.has(ch), batch });
    }, tolerate);
  }
  const ms = now() - t0;
  const failed = clients.failed ?? 0;
  const held = clients.filter(Boolean);
  groups.set(tag, held);
  return { opened: held.length, failed, firstError: clients.firstError, ms: Math.round(ms) };
}

/** Connection rate: `n` new clients, `conc` at a time; each times upgrade + token check + join reply (or SIO connect). */
async function rate({ tag, sys = 'signal', port, n, conc = 100 }) {
  const jwts = sys === 'signal' ? await Promise.all(Array.from({ length: n }, (_, k) => token(port, `${tag}r${k}`))) : null;
  const t0 = now();
  const clients = await pool(n, conc, (k) => (sys === 'socketio' ? sioClient(port) : ourClient(port, jwts[k], `rate${k % 1000}`, false)));
  const ms = now() - t0;
  const times = Float64Array.from(clients.map((c) => c.connectMs)).sort();
  for (const c of clients) c.ws.terminate();
  return { perSec: Math.round(n / (ms / 1000)), p50: +pct(times, 50).toFixed(2), p99: +pct(times, 99).toFixed(2), ms: Math.round(ms) };
}

/**
 * Presence storm, phase 1: connect `n` sockets (members `from..from+n-1` of a storm of `total`), no join yet.
 * Rosters are kept as bitsets over addresses numbered on first sight (one Map per process), not as Sets.
 */
async function stormConnect({ tag, port, n, from = 0, total, conc = 200 }) {
  const jwts = await Promise.all(Array.from({ length: n }, (_, k) => token(port, `${tag}s${from + k}`)));
  const socks = await pool(n, conc, (k) => connect(`ws://127.0.0.1:${port}/signal/v1/pubsub?jwt=${jwts[k]}`));
  const index = new Map();
  const idx = (a) => {
    let i = index.get(a);
    if (i === undefined) index.set(a, (i = index.size));
    return i;
  };
  const members = socks.map((ws) => ({ ws, bits: new Uint8Array(total * 2 + 16), count: 0, me: -1, done: 0, frames: 0 }));
  for (const m of members) {
    const add = (a) => {
      const i = idx(a);
      if (i < m.bits.length && !m.bits[i]) (m.bits[i] = 1), m.count++;
    };
    const del = (a) => {
      const i = idx(a);
      if (i < m.bits.length && m.bits[i]) (m.bits[i] = 0), m.count--;
    };
    m.ws.on('message', (buf) => {
      m.frames++;
      const f = JSON.parse(buf.toString());
      const p = f.params;
      if (f.id === 1) m.me = idx(f.result?.address ?? '');
      else if (f.method === 'signal.join' || f.method === 'signal.join_back') add(p.from);
      else if (f.method === 'signal.leave') del(p.from);
      else if (f.method === 'signal.presence') {
        if (p.self) m.me = idx(p.self);
        for (const e of p.members ?? []) add(e[0]);
        for (const a of p.left ?? []) del(a);
      }
      const size = m.count - (m.me >= 0 && m.bits[m.me] ? 1 : 0);
      if (!m.done && m.me >= 0 && size >= total - 1) {
        m.done = wall();
        m.onDone?.();
      }
    });
  }
  groups.set(tag, members);
  return { connected: n };
}

/** Presence storm, phase 2: every member sends its join at wall time `at`; resolves when all local rosters are complete. */
async function stormGo({ tag, at, channel, batch = false, timeoutMs = 60000 }) {
  const members = groups.get(tag);
  let left = members.length;
  const finished = new Promise((resolve) => {
    for (const m of members) m.onDone = () => --left === 0 && resolve();
  });
  await sleep(Math.max(0, at - wall()));
  const join = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'signal.join', params: { id: channel, presence: true, ...(batch ? { batch: true } : {}) } });
  for (const m of members) m.ws.send(join);
  const timedOut = await Promise.race([finished.then(() => false), sleep(timeoutMs).then(() => true)]);
  const done = members.map((m) => m.done);
  return { lastDone: Math.max(...done.map((d) => d || Infinity)), complete: done.filter(Boolean).length, frames: members.reduce((s, m) => s + m.frames, 0), timedOut };
}

/** Rosters seen by the watched members of `channel`s (sorted address lists), with each member's own address. */
function rosters({ tag }) {
  const out = {};
  for (const c of groups.get(tag) ?? []) {
    if (!c.roster) continue;
    (out[c.channel] ??= []).push({ me: c.address, presence: c.presence, roster: [...c.roster].sort() });
  }
  return out;
}

/** Publish `{t: wall ms}` from the first watched member of `channel` `count` times, `gapMs` apart. */
async function publish({ tag, channel, count = 20, gapMs = 50 }) {
  const c = (groups.get(tag) ?? []).find((x) => x.channel === channel && x.roster);
  if (!c) return { sent: 0 };
  for (let i = 0; i < count; i++) {
    c.ws.send(`{"jsonrpc":"2.0","method":"signal.publish","params":{"id":"${channel}","s":${i},"t":${wall()}}}`);
    await sleep(gapMs);
  }
  return { sent: count, from: c.address };
}

/** Publish-to-delivery latencies seen by watched members (ms), and how many deliveries each got. */
function latencies({ tag }) {
  const all = [];
  const perClient = [];
  for (const c of groups.get(tag) ?? []) {
    if (!c.lat) continue;
    perClient.push(c.lat.length);
    all.push(...c.lat);
    c.lat.length = 0;
  }
  return { lat: all, perClient };
}

function close({ tag }) {
  for (const c of groups.get(tag) ?? []) (c.closing = true), c.ws.terminate();
  groups.delete(tag);
  return true;
}

/** Event-loop delay of this generator since the last call (ms): a starved generator answers pings late. */
const delay = monitorEventLoopDelay({ resolution: 20 });
delay.enable();
function lag() {
  const out = { max: +(delay.max / 1e6).toFixed(0), p99: +(delay.percentile(99) / 1e6).toFixed(0), closedByServer: Object.fromEntries(closedBy) };
  delay.reset();
  return out;
}

serve({ progress: () => progress, open, rate, stormConnect, stormGo, rosters, publish, latencies, close, lag, cpu: () => process.cpuUsage(), mem: () => process.memoryUsage().rss });
process.send({ ready: true });
