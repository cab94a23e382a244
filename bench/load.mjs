// Load generator (its own process, separate from every server). Holds groups of clients and runs
// the fan-out, direct-message, memory and crowd-join workloads on command (see lib/proc.mjs `serve`).
//
// Most clients are raw `ws` sockets that speak each system's wire protocol and parse only the two
// integers they need, so the generator is not the bottleneck. For our server, a sample of the fan-out
// receivers and every crowd-join newcomer are the real `Signal` client from src/client.
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { Signal } from '../src/client/index.ts';
import { signAccessToken } from '../src/server/auth.ts';
import { serve } from './lib/proc.mjs';
import { pct } from './lib/stats.mjs';

const SECRET = process.env.BENCH_SECRET ?? 'bench-secret';
const PAD = 'x'.repeat(60); // payload {s, t, r, pad} ≈ 100 bytes of JSON
const S = Buffer.from('"s":');
const T = Buffer.from('"t":');
const R = Buffer.from('"r":');
const RESULT = Buffer.from('"result"');
const now = () => performance.now();
const micros = () => Math.round(performance.now() * 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readInt(buf, needle) {
  let i = buf.indexOf(needle);
  if (i < 0) return -1;
  i += needle.length;
  let v = 0;
  for (;;) {
    const c = buf[i++];
    if (c < 48 || c > 57) return v;
    v = v * 10 + c - 48;
  }
}

// A zero masking key keeps the frames valid (still masked) and saves the generator the XOR and random fill.
const zeroMask = (mask) => mask.fill(0);
let framesIn = 0; // every frame any client received (quiescence checks)
let lastFrameAt = 0;
const WS_OPTS = { perMessageDeflate: false, skipUTF8Validation: true, generateMask: zeroMask };

/** A raw client of ours or of the bare-ws baselines (same JSON-RPC frames). */
function rpcClient(url, channel, presence) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, WS_OPTS);
    const c = {
      ws,
      address: '',
      onMsg: null,
      onFrame: null,
      publish(s, t) {
        ws.send(`{"jsonrpc":"2.0","method":"signal.publish","params":{"id":"${channel}","s":${s},"t":${t},"r":0,"pad":"${PAD}"}}`);
      },
      dm(to, s, t, r) {
        ws.send(`{"jsonrpc":"2.0","method":"signal.send","params":{"to":"${to}","s":${s},"t":${t},"r":${r},"pad":"${PAD}"}}`);
      },
      send(text) {
        ws.send(text);
      },
      close() {
        ws.terminate();
      },
    };
    const timer = setTimeout(() => reject(new Error(`connect/join timeout ${url.slice(0, 60)}`)), 30000);
    ws.on('error', (e) => reject(e));
    ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'signal.join', params: { id: channel, presence } })));
    ws.on('message', (buf) => {
      framesIn++;
      lastFrameAt = now();
      if (c.onFrame) c.onFrame(buf);
      const s = readInt(buf, S);
      if (s >= 0) {
        c.onMsg?.(s, readInt(buf, T), readInt(buf, R));
        return;
      }
      if (!c.address && buf.indexOf(RESULT) >= 0) {
        const m = JSON.parse(buf.toString());
        if (m.id === 1 && m.result?.address) {
          c.address = m.result.address;
          clearTimeout(timer);
          resolve(c);
        }
      }
    });
  });
}

/** A raw Engine.IO v4 / Socket.IO v5 client over the websocket transport. */
function sioClient(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, WS_OPTS);
    const c = {
      ws,
      address: '',
      onMsg: null,
      publish(s, t) {
        ws.send(`42["pub",{"s":${s},"t":${t},"r":0,"pad":"${PAD}"}]`);
      },
      dm(to, s, t, r) {
        ws.send(`42["dm",{"to":"${to}","s":${s},"t":${t},"r":${r},"pad":"${PAD}"}]`);
      },
      close() {
        ws.terminate();
      },
    };
    const timer = setTimeout(() => reject(new Error('socket.io connect timeout')), 30000);
    ws.on('error', (e) => reject(e));
    ws.on('message', (buf) => {
      framesIn++;
      lastFrameAt = now();
      const b0 = buf[0];
      if (b0 === 0x34 && buf[1] === 0x32) {
        // "42[...]": an event
        c.onMsg?.(readInt(buf, S), readInt(buf, T), readInt(buf, R));
      } else if (b0 === 0x32 && buf.length === 1) {
        ws.send('3'); // ping -> pong
      } else if (b0 === 0x30) {
        ws.send('40'); // open -> connect the main namespace
      } else if (b0 === 0x34 && buf[1] === 0x30) {
        c.address = JSON.parse(buf.subarray(2).toString()).sid;
        clearTimeout(timer);
        resolve(c);
      }
    });
  });
}

/** Our real Signal client, joined to `channel`, exposing the same small interface. */
async function signalClient(port, identity, channel) {
  const jwt = await signAccessToken({ secret: SECRET, identity, device: 'd', audience: `http://127.0.0.1:${port}` });
  const sig = new Signal(jwt, { WebSocket, reconnect: false });
  const c = {
    sig,
    address: '',
    onMsg: null,
    dm(to, s, t, r) {
      sig.send({ to, s, t, r, pad: PAD });
    },
    close() {
      sig.dispose();
    },
  };
  const ch = sig.join(channel);
  ch.on('message', (m) => c.onMsg?.(m.s, m.t, m.r));
  sig.on('message', (m) => c.onMsg?.(m.s, m.t, m.r));
  await Promise.race([ch.ready, sleep(30000).then(() => Promise.reject(new Error('Signal join timeout')))]);
  c.address = ch.me.id;
  return c;
}

async function tokenUrl(port, identity) {
  const jwt = await signAccessToken({ secret: SECRET, identity, device: 'd', audience: `http://127.0.0.1:${port}` });
  return `ws://127.0.0.1:${port}/signal/v1/pubsub?jwt=${jwt}`;
}

/** Open `count` clients made by `make(i)`, `batch` at a time. */
async function openMany(count, make, batch = 100) {
  const out = [];
  for (let i = 0; i < count; i += batch) {
    const part = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, j) => make(i + j)));
    out.push(...part);
  }
  return out;
}

const groups = new Map();

/** Connect a publisher plus `n` receivers (`sample` of them real Signal clients) to one system. */
async function connect({ tag, sys, port, n, sample = 0, channel = 'room', presence = false }) {
  const t0 = now();
  const make = (i) => {
    if (sys === 'socketio') return sioClient(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&room=1`);
    if (sys === 'signal') {
      if (i > 0 && i <= sample) return signalClient(port, `sig${tag}${i}`, channel);
      return tokenUrl(port, `${tag}u${i}`).then((url) => rpcClient(url, channel, presence));
    }
    return rpcClient(`ws://127.0.0.1:${port}/`, channel, presence);
  };
  const all = await openMany(n + 1, make);
  groups.set(tag, { sys, publisher: all[0], receivers: all.slice(1) });
  return { ms: Math.round(now() - t0), clients: all.length };
}

const lat = new Float64Array(1 << 23);

/** Closed-loop fan-out: keep `window` messages in flight; one completes when all receivers got it. */
function fanout({ tag, window = 16, warmMs = 300, durMs = 1500, stallMs = 5000 }) {
  const g = groups.get(tag);
  const N = g.receivers.length;
  const RING = 1 << 16;
  const counts = new Uint32Array(RING);
  return new Promise((resolve) => {
    let seq = 0;
    let outstanding = 0;
    let phase = 'warm';
    let deliveries = 0;
    let nLat = 0;
    let sampleDeliveries = 0;
    let tStart = 0;
    let tEnd = 0;
    let lastProgress = now();
    let published = 0;
    let cpu0 = null;
    const pump = () => {
      while (outstanding < window && phase !== 'done') {
        g.publisher.publish(seq++, micros());
        outstanding++;
        published++;
      }
    };
    const onMsg = (s, t) => {
      const tNow = micros();
      const k = s & (RING - 1);
      const got = ++counts[k];
      if (phase === 'measure') {
        deliveries++;
        if (nLat < lat.length) lat[nLat++] = (tNow - t) / 1000;
      }
      if (got === N) {
        counts[k] = 0;
        outstanding--;
        lastProgress = now();
        pump();
      }
    };
    g.receivers.forEach((c) => {
      c.onMsg = c.sig ? (s, t) => (phase === 'measure' && sampleDeliveries++, onMsg(s, t)) : onMsg;
    });
    const finish = (error) => {
      clearInterval(watch);
      for (const c of g.receivers) c.onMsg = null;
      const elapsed = (tEnd - tStart) / 1000;
      const sorted = lat.subarray(0, nLat).sort();
      resolve({
        deliveriesPerSec: Math.round(deliveries / elapsed),
        p50: +pct(sorted, 50).toFixed(2),
        p99: +pct(sorted, 99).toFixed(2),
        deliveries,
        published,
        signalSampleDeliveries: sampleDeliveries,
        loadCpu: cpu0 && cpu0.user !== undefined ? +((cpu0.user + cpu0.system) / 1000 / (tEnd - tStart)).toFixed(2) : null,
        error,
      });
    };
    setTimeout(() => {
      phase = 'measure';
      tStart = now();
      cpu0 = process.cpuUsage();
      setTimeout(() => {
        phase = 'done';
        tEnd = now();
        cpu0 = process.cpuUsage(cpu0);
        // Let the window drain (bounded) so the next round starts clean.
        const drain = setInterval(() => {
          if (outstanding === 0 || now() - tEnd > stallMs) {
            clearInterval(drain);
            finish(outstanding === 0 ? undefined : `${outstanding} messages never reached every receiver`);
          }
        }, 5);
      }, durMs);
    }, warmMs);
    const watch = setInterval(() => {
      if (phase !== 'done' && now() - lastProgress > stallMs) {
        phase = 'done';
        tEnd = now();
        finish('stalled');
      }
    }, 100);
    pump();
  });
}

/** `pairs` request/reply pairs by exact endpoint address, one request in flight per pair. */
function dm({ tag, pairs, warmMs = 300, durMs = 1500, stallMs = 5000 }) {
  const g = groups.get(tag);
  const cs = g.receivers;
  if (cs.length < pairs * 2) throw new Error(`need ${pairs * 2} clients, have ${cs.length}`);
  return new Promise((resolve) => {
    let phase = 'warm';
    let trips = 0;
    let nLat = 0;
    let tStart = 0;
    let tEnd = 0;
    let lastProgress = now();
    let inflight = 0;
    let cpu0 = null;
    for (let i = 0; i < pairs; i++) {
      const a = cs[2 * i];
      const b = cs[2 * i + 1];
      b.onMsg = (s, t) => b.dm(a.address, s, t, 1);
      a.onMsg = (s, t) => {
        inflight--;
        lastProgress = now();
        if (phase === 'measure') {
          trips++;
          if (nLat < lat.length) lat[nLat++] = (micros() - t) / 1000;
        }
        if (phase !== 'done') {
          inflight++;
          a.dm(b.address, s + 1, micros(), 0);
        }
      };
      inflight++;
      a.dm(b.address, 0, micros(), 0);
    }
    const finish = (error) => {
      clearInterval(watch);
      for (const c of cs) c.onMsg = null;
      const sorted = lat.subarray(0, nLat).sort();
      resolve({
        roundTripsPerSec: Math.round(trips / ((tEnd - tStart) / 1000)),
        p50: +pct(sorted, 50).toFixed(2),
        p99: +pct(sorted, 99).toFixed(2),
        trips,
        loadCpu: cpu0 ? +((cpu0.user + cpu0.system) / 1000 / (tEnd - tStart)).toFixed(2) : null,
        error,
      });
    };
    const watch = setInterval(() => {
      if (phase !== 'done' && now() - lastProgress > stallMs) {
        phase = 'done';
        tEnd = now();
        finish('stalled');
      }
    }, 100);
    setTimeout(() => {
      phase = 'measure';
      tStart = now();
      cpu0 = process.cpuUsage();
      setTimeout(() => {
        phase = 'done';
        tEnd = now();
        cpu0 = process.cpuUsage(cpu0);
        const t0 = now();
        const drain = setInterval(() => {
          if (inflight === 0 || now() - t0 > stallMs) {
            clearInterval(drain);
            finish(inflight === 0 ? undefined : `${inflight} round trips never completed`);
          }
        }, 5);
      }, durMs);
    }, warmMs);
  });
}

function close({ tag }) {
  const g = groups.get(tag);
  if (!g) return false;
  g.publisher.close();
  for (const c of g.receivers) c.close();
  groups.delete(tag);
  return true;
}

/** Open `n` idle clients joined to one (presence) channel; used for the memory workload. */
async function idle({ tag, sys, port, n, presence = true, batch = 50 }) {
  const t0 = now();
  const make = (i) => {
    if (sys === 'socketio') return sioClient(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&room=1`);
    if (sys === 'signal') return tokenUrl(port, `${tag}i${i}`).then((url) => rpcClient(url, 'lobby', presence));
    return rpcClient(`ws://127.0.0.1:${port}/`, 'lobby', presence);
  };
  const all = await openMany(n, make, batch);
  groups.set(tag, { sys, publisher: { close() {} }, receivers: all });
  const ms = Math.round(now() - t0);
  // Wait until the server has nothing left in flight to us (no frame for 500 ms; bounded), so that its queued
  // writes are not counted as per-connection memory.
  const before = framesIn;
  const deadline = now() + 60000;
  while (now() - lastFrameAt < 500 && now() < deadline) await sleep(50);
  return { ms, quietMs: Math.round(now() - t0) - ms, framesAfterJoin: framesIn - before, frames: framesIn };
}

/** A presence channel `crowd` with `n` raw members, each with ~`stateBytes` of state. */
async function crowdSetup({ tag, port, n = 1000, stateBytes = 50 }) {
  const t0 = now();
  let statesSeen = 0;
  const first = await tokenUrl(port, `${tag}m0`).then((url) => rpcClient(url, 'crowd', true));
  first.onFrame = (buf) => {
    if (buf.indexOf('"state"') >= 0) statesSeen++;
  };
  const stateOf = (i) => ({ name: `member ${i}`, color: '#36c', pad: 'y'.repeat(Math.max(0, stateBytes - 40)) });
  first.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'crowd', state: stateOf(0) } }));
  const rest = await openMany(
    n - 1,
    async (i) => {
      const c = await tokenUrl(port, `${tag}m${i + 1}`).then((url) => rpcClient(url, 'crowd', true));
      c.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'crowd', state: stateOf(i + 1) } }));
      return c;
    },
    25,
  );
  const deadline = now() + 60000;
  while (statesSeen < n - 1 && now() < deadline) await sleep(20);
  if (statesSeen < n - 1) throw new Error(`crowd setup: member 0 saw ${statesSeen}/${n - 1} states`);
  groups.set(tag, { sys: 'signal', publisher: first, receivers: rest });
  return { ms: Math.round(now() - t0), members: n, stateJson: JSON.stringify(stateOf(1)).length };
}

/** A real Signal client joins `crowd`: ms until it holds the full roster with every state. */
async function crowdJoin({ port, members, run }) {
  const jwt = await signAccessToken({ secret: SECRET, identity: `newcomer${run}`, device: 'd', audience: `http://127.0.0.1:${port}` });
  const sig = new Signal(jwt, { WebSocket, reconnect: false });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('newcomer did not connect')), 10000);
    sig.on('state', (s) => s === 'open' && (clearTimeout(t), resolve()));
  });
  const t0 = now();
  const ch = sig.join('crowd', { presence: true });
  const complete = () => {
    if (ch.participants.size < members) return false;
    for (const p of ch.participants.values()) if (p.state === undefined) return false;
    return true;
  };
  let tReady = NaN;
  void ch.ready.then(() => (tReady = now() - t0), () => {}); // rejects when we dispose before the reply: the roster is complete first
  const ms = await new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`roster incomplete: ${ch.participants.size}/${members}`)), 20000);
    const check = () => {
      if (complete()) {
        clearTimeout(deadline);
        clearInterval(poll);
        resolve(now() - t0);
      }
    };
    const poll = setInterval(check, 1);
    ch.on('participant', check);
  });
  sig.dispose();
  await sleep(200); // let the leave fan out before the next run
  return { ms: +ms.toFixed(1), readyMs: +tReady.toFixed(1), participants: ch.participants.size };
}

serve({ connect, fanout, dm, close, idle, crowdSetup, crowdJoin });
process.send({ ready: true });
