// `npm start`: the real signal server (with dev tokens) + Storybook dev, the demos pointed at that server.
// Ctrl-C stops both. Env: SIGNAL_PORT (7070), STORYBOOK_PORT (6006, or the next free one), HOST (127.0.0.1).
// The Storybook URL printed is the one Storybook itself reports (its "Local:" line), so it is right even when
// Storybook had to take another port.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Whether `port` can be bound on `host` now. */
function canListen(port, host) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** `preferred` when it is free on `host`, else the next free port of the following `tries`, else any free port. */
export async function freePort(host, preferred, tries = 20) {
  for (let p = preferred; p < preferred + tries && p <= 65535; p++) if (await canListen(p, host)) return p;
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * The Storybook URL in a line of Storybook's output (its "Local:" line, e.g. `│  - Local:  http://127.0.0.1:6007/  │`,
 * colours included), with `host` in it (unless `host` listens on every interface); `undefined` for other lines.
 */
export function storybookUrlOf(line, host) {
  const m = /Local:\s+(https?:\/\/[^\s│]+)/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  if (!m) return undefined;
  const url = new URL(m[1]);
  if (host && host !== '0.0.0.0' && host !== '::') url.hostname = host.includes(':') ? `[${host}]` : host;
  return url.href;
}

/** Newest mtime under a folder (ms). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

async function main() {
  const host = process.env.HOST ?? '127.0.0.1';
  const signalPort = process.env.SIGNAL_PORT ?? '7070';
  // Storybook would move to another port by itself when this one is taken; choosing it here keeps that visible.
  const wanted = Number(process.env.STORYBOOK_PORT ?? '6006');
  const storybookPort = await freePort(host, wanted);
  if (storybookPort !== wanted) console.log(`port ${wanted} is busy: Storybook will use ${storybookPort}`);

  // Build dist/ when missing or older than src/ (the CLI runs dist/).
  if (!existsSync('dist/cli/main.js') || newest('src') > statSync('dist/cli/main.js').mtimeMs) {
    console.log('building dist/ …');
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }

  const children = new Set();
  let stopping = false;

  function start(name, args, env, onLine) {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
          onLine?.(line);
        }
      });
    }
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!stopping) {
        console.error(`${name} exited (${signal ?? code}); stopping`);
        stop(code || 1);
      }
    });
    return child;
  }

  function stop(code = 0) {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const c of children) c.kill('SIGKILL');
    }, 5000);
    force.unref();
    const done = () => {
      if (children.size === 0) {
        console.log('stopped the signal server and Storybook');
        process.exit(code);
      }
      setTimeout(done, 50);
    };
    done();
  }
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));

  let serverUrl = '';
  let storybookUrl = '';
  const banner = () => {
    if (!serverUrl || !storybookUrl) return;
    console.log(`\n  Signal server  ${serverUrl}   (POST /token, GET /healthz, ws /signal/v1/pubsub)`);
    console.log(`  Storybook      ${storybookUrl}   (demos use the server above; toolbar "Signal server" switches to in-page)`);
    console.log('\n  Ctrl-C stops both.\n');
  };

  start('server', ['bin/react-signal-service.js', 'serve', '--dev-tokens', '--port', signalPort, '--host', host], {}, (line) => {
    const m = /listening on (http:\/\/\S+)/.exec(line);
    if (!m || serverUrl) return;
    serverUrl = m[1];
    start(
      'storybook',
      ['node_modules/storybook/dist/bin/dispatcher.js', 'dev', '-p', String(storybookPort), '--host', host, '--ci', '--no-open'],
      { STORYBOOK_SIGNAL_SERVER: 'real', STORYBOOK_SIGNAL_URL: serverUrl, STORYBOOK_DISABLE_TELEMETRY: '1' },
      (l) => {
        const url = storybookUrl ? undefined : storybookUrlOf(l, host);
        if (!url) return;
        storybookUrl = url;
        banner();
      },
    );
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
