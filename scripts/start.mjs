// `npm start`: the real signal server (with dev tokens) + Storybook dev, the demos pointed at that server.
// Ctrl-C stops both. Env: SIGNAL_PORT (7070), STORYBOOK_PORT (6006), HOST (127.0.0.1).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const host = process.env.HOST ?? '127.0.0.1';
const signalPort = process.env.SIGNAL_PORT ?? '7070';
const storybookPort = process.env.STORYBOOK_PORT ?? '6006';

/** Newest mtime under a folder (ms). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

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
    ['node_modules/storybook/dist/bin/dispatcher.js', 'dev', '-p', storybookPort, '--host', host, '--ci', '--no-open'],
    { STORYBOOK_SIGNAL_SERVER: 'real', STORYBOOK_SIGNAL_URL: serverUrl, STORYBOOK_DISABLE_TELEMETRY: '1' },
    (l) => {
      if (storybookUrl || !/Storybook .*started|Local:/i.test(l)) return;
      storybookUrl = `http://${host}:${storybookPort}/`;
      banner();
    },
  );
});
