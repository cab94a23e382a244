// A private redis-server on a free 127.0.0.1 port, for tests and benchmarks.
// Never touches a Redis it did not start: it only signals the PID it spawned.
import { spawn, execFileSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** Is `redis-server` on PATH? */
export function hasRedisServer() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolve true when `PING` gets `+PONG` on 127.0.0.1:port within `ms`. */
export function ping(port, ms = 500) {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok) => {
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), ms);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.on('error', () => done(false));
  });
}

/**
 * Start `redis-server --port <free> --bind 127.0.0.1 --save '' --appendonly no`.
 * Returns `{ port, url, pid, stop(), kill(), start() }`: `stop()` sends SIGTERM and waits for the exit,
 * `kill()` sends SIGKILL, `start()` starts it again on the same port (for restart tests).
 */
export async function startRedisServer({ port, timeoutMs = 10_000 } = {}) {
  const chosen = port ?? (await freePort());
  let child = null;
  let exited = null;

  const start = async () => {
    if (child) throw new Error('redis-server already running');
    const c = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    exited.then(() => {
      if (child === c) child = null;
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (c.exitCode !== null || c.signalCode !== null) break;
      if (await ping(chosen)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    c.kill('SIGKILL');
    throw new Error(`redis-server on port ${chosen} did not answer PING: ${stderr.trim()}`);
  };

  const signal = async (sig) => {
    const c = child;
    if (!c) return;
    c.kill(sig);
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };

  await start();
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== null;
    },
    start,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}
