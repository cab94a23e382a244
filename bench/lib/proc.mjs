// Child processes with an IPC request/reply channel, bounded by timeouts.
import { fork } from 'node:child_process';

const TSX = ['--import', 'tsx'];

/**
 * Fork `file` (a bench script) with the tsx loader and wait for its `{ready}` message.
 * @param {string} file
 * @param {{ args?: string[], execArgv?: string[], env?: Record<string,string>, readyTimeoutMs?: number, execPath?: string }} [opts]
 * `execPath`: a wrapper that runs node (lib/node-ulimit.sh raises the open-file limit first).
 */
export async function start(file, opts = {}) {
  const child = fork(file, opts.args ?? [], {
    execArgv: [...TSX, ...(opts.execArgv ?? [])],
    env: { ...process.env, ...opts.env, ...(opts.execPath ? { NODE_BIN: process.execPath } : {}) },
    ...(opts.execPath ? { execPath: opts.execPath } : {}),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const waiting = new Map();
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${file} not ready within ${opts.readyTimeoutMs ?? 20000} ms`)), opts.readyTimeoutMs ?? 20000);
    child.on('message', (m) => {
      if (m && m.ready) {
        clearTimeout(t);
        resolve(m);
      } else if (m && waiting.has(m.reply)) {
        const w = waiting.get(m.reply);
        waiting.delete(m.reply);
        clearTimeout(w.t);
        if (m.error) w.reject(new Error(`${file}: ${m.error}`));
        else w.resolve(m.value);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${file} exited (${code}) before ready`));
      for (const w of waiting.values()) w.reject(new Error(`${file} exited (${code})`));
      waiting.clear();
    });
  });
  const info = await ready;
  return {
    info,
    pid: child.pid,
    /** Send a command and wait for its reply. */
    call(cmd, args = {}, timeoutMs = 60000) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${file}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, { resolve, reject, t });
        child.send({ id, cmd, ...args });
      });
    },
    /** Ask it to exit; SIGKILL after a grace period. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      try {
        child.send({ id: 0, cmd: 'exit' });
      } catch {}
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Serve IPC commands in a child: `handlers[cmd](msg)` may return a value or a promise.
 * @param {Record<string, (msg: any) => any>} handlers
 */
export function serve(handlers) {
  process.on('message', async (m) => {
    if (!m || typeof m.cmd !== 'string') return;
    if (m.cmd === 'exit') {
      await handlers.exit?.();
      process.exit(0);
    }
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const value = await h(m);
      process.send({ reply: m.id, value });
    } catch (e) {
      process.send({ reply: m.id, error: String(e?.stack ?? e) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** Server-side memory after a full GC (needs --expose-gc). */
export async function memory() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.(); // full, synchronous (an options object would make it a minor GC on Node 20)
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  const { getHeapSpaceStatistics } = await import('node:v8');
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, { size: x.space_size, used: x.space_used_size }]));
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, spaces, gc: typeof globalThis.gc === 'function' };
}
