/**
 * `serve`'s operations through the real bin (issue 13): JSON log lines on stdout (the listening line with the
 * effective configuration, secrets redacted; connections; a refusal), `--log-level` filtering, the new keys from
 * flags, variables and a file, `/metrics` off by `--metrics false`, SIGTERM with `--drain-ms 0` closing at once with
 * 1001, by default draining (1012), and a second signal exiting at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/server/auth.js';
import { RawPool } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';
import { exitOf, killAll, run, serve, stop } from './run.js';

const SECRET = 'cli-ops-secret-canary-0123456789abcdefXYZ';
const REDIS_PASSWORD = 'redis-password-canary';
const pool = new RawPool();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rss-cli-ops-'));
});
afterEach(() => {
  pool.closeAll();
  killAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jsonLines = (out: string): Record<string, any>[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('serve: logs and operations keys', () => {
  it('JSON lines: listening with the redacted config, a connection accepted and closed, a refused call; never the secret or the token', { timeout: 30_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--log-format', 'json', '--allowed-origins', 'https://a.example, https://b.example'], {
      SIGNAL_CORS_ORIGINS: 'https://a.example',
      SIGNAL_DRAIN_MS: '1500',
    });
    const jwt = await signAccessToken({ secret: SECRET, identity: 'carol', device: 'tab', audience: srv.url });
    const c = await pool.connect(srv.url, jwt);
    c.notify('signal.leave', { id: 'never-joined' });
    await c.drain(200);
    c.ws.close(1000);
    await waitFor(() => jsonLines(srv.out()).some((l) => l.event === 'connection.closed'), 10_000, 'the closed line');
    await stop(srv);
    const lines = jsonLines(srv.out());
    const listening = lines.find((l) => l.event === 'server.listening')!;
    expect(listening).toMatchObject({ level: 30, url: srv.url });
    expect(listening.config).toMatchObject({
      secret: '[redacted]',
      allowedOrigins: ['https://a.example', 'https://b.example'],
      corsOrigins: ['https://a.example'],
      drainMs: 1500,
      metrics: true,
      logFormat: 'json',
      logLevel: 'info',
    });
    expect(lines.find((l) => l.event === 'connection.accepted')).toMatchObject({ identity: 'carol', device: 'tab' });
    expect(lines.find((l) => l.event === 'call.refused')).toMatchObject({ identity: 'carol', code: -32006, method: 'signal.leave', channel: 'never-joined' });
    expect(lines.find((l) => l.event === 'connection.closed')).toMatchObject({ identity: 'carol', code: 1000 });
    for (const l of lines) expect(typeof l.time).toBe('string');
    expect(srv.out()).not.toContain(SECRET);
    expect(srv.out()).not.toContain(jwt);
    expect(srv.out()).not.toContain(jwt.split('.')[2]!);
  });

  it('--log-level warn leaves info lines out; a config file sets the keys; metrics false: no /metrics', { timeout: 30_000 }, async () => {
    const file = join(dir, 'ops.yaml');
    writeFileSync(file, `logLevel: warn\nlogFormat: json\nmetrics: false\nredis:\n  ttlMs: 10000\n`);
    const printed = run(['serve', '--config', file, '--print-config', '--secret', SECRET, '--redis-url', `redis://:${REDIS_PASSWORD}@127.0.0.1:1`]);
    expect((await exitOf(printed)).code).toBe(0);
    expect(JSON.parse(printed.out())).toMatchObject({ logLevel: 'warn', metrics: false, secret: '[redacted]' });
    expect(printed.out()).not.toContain(REDIS_PASSWORD);

    const srv = await serve(['serve', '--port', '0', '--config', file, '--secret', SECRET]);
    expect((await fetch(`${srv.url}/metrics`)).status).toBe(404);
    const jwt = await signAccessToken({ secret: SECRET, identity: 'dan', device: 'x', audience: srv.url });
    const bad = pool.add((await import('../compat/raw-client.js')).rawSocket(srv.url, `${jwt}x`));
    expect((await bad.waitClose(5000)).code).toBe(4401);
    await waitFor(() => jsonLines(srv.out()).some((l) => l.event === 'connection.refused'), 5000, 'the refusal line');
    await stop(srv);
    const lines = jsonLines(srv.out());
    expect(lines.every((l) => l.level >= 40)).toBe(true);
    expect(lines.find((l) => l.event === 'connection.refused')).toMatchObject({ code: 4401, level: 40 });
  });

  it('--log-format pretty writes lines for people (pino-pretty); auto on a pipe writes JSON', { timeout: 30_000 }, async () => {
    const pretty = await serve(['serve', '--port', '0', '--secret', SECRET, '--log-format', 'pretty']);
    await stop(pretty);
    expect(pretty.out()).toMatch(/INFO.*server listening/);
    expect(pretty.out()).not.toMatch(/^\{"level"/m);
    expect(pretty.out()).not.toContain(SECRET);
    const auto = await serve(['serve', '--port', '0', '--secret', SECRET]);
    await stop(auto);
    expect(jsonLines(auto.out()).map((l) => l.event)).toContain('server.listening');
  });

  it('bad values of the new keys exit 2 naming the key', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--log-level', 'loud'], /--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/],
      [['serve', '--log-format', 'xml'], /--log-format must be one of json, pretty, auto, got "xml"/],
      [['serve', '--drain-ms', '-1'], /--drain-ms must be an integer from 0 to 2147483647, got "-1"/],
      [['serve', '--allowed-origins', 'https://a.example,,'], /--allowed-origins must be a comma-separated list of non-empty strings/],
    ];
    for (const [args, err] of cases) {
      const r = run(args);
      expect(await exitOf(r), args.join(' ')).toEqual({ code: 2, signal: null });
      expect(r.err()).toMatch(err);
    }
  });
});

describe('serve: signals', () => {
  it('with --drain-ms 0 SIGTERM closes at once with 1001; otherwise it drains (1012); a second signal exits at once', { timeout: 60_000 }, async () => {
    const plain = await serve(['serve', '--port', '0', '--secret', SECRET, '--log-format', 'json', '--drain-ms', '0']);
    const c1 = await pool.connect(plain.url, await signAccessToken({ secret: SECRET, identity: 'e', device: 'x', audience: plain.url }));
    plain.child.kill('SIGTERM');
    expect((await c1.waitClose(5000)).code).toBe(1001);
    expect(await exitOf(plain)).toEqual({ code: 0, signal: null });
    expect(jsonLines(plain.out()).some((l) => l.event === 'drain.start')).toBe(false);

    const draining = await serve(['serve', '--port', '0', '--secret', SECRET, '--log-format', 'json', '--drain-ms', '20000']);
    const clients = await Promise.all(
      ['f', 'g', 'h'].map(async (id) => pool.connect(draining.url, await signAccessToken({ secret: SECRET, identity: id, device: 'x', audience: draining.url }))),
    );
    const t0 = Date.now();
    draining.child.kill('SIGTERM');
    // The first one at once, the others spread over 20 s: a second SIGTERM ends it at once.
    const first = await Promise.race(clients.map((c) => c.closed));
    expect(first.code).toBe(1012);
    const ready = await fetch(`${draining.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'draining' });
    draining.child.kill('SIGTERM');
    expect(await exitOf(draining, 10_000)).toEqual({ code: 1, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const events = jsonLines(draining.out()).map((l) => l.event);
    expect(events).toContain('drain.start');
    expect(events).toContain('server.exit_now');
  });
});
