/**
 * `serve`'s configuration through the real bin (dist/): one precedence (flags > SIGNAL_* variables > the --config
 * file > defaults), every kind of validation error (exit 2, the key named as the user wrote it), --print-config with
 * secrets redacted, --version, --help listing every limit, and limits from a config file taking effect on a running
 * server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/protocol/constants.js';
import { RawPool } from '../compat/raw-client.js';
import { exitOf, killAll, run, serve, stop } from './run.js';

const SECRET = 'config-test-secret-0123456789abcdef-XYZ'; // 39 bytes: no short-secret warning
const REDIS_PASSWORD = 'hunter2-redis-password';

const pool = new RawPool();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rss-cli-config-'));
});
afterEach(() => {
  pool.closeAll();
  killAll();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write `content` (an object as JSON, or text as is) to `name` in the test folder; its path. */
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (s: string): string => kebab(s).replace(/-/g, '_').toUpperCase();
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Run `serve --print-config` with `args` and `env`: exit 0 and the JSON printed. */
async function printConfig(args: string[], env: Record<string, string> = {}): Promise<{ config: Record<string, any>; out: string; err: string }> {
  const r = run(['serve', '--print-config', ...args], env);
  const { code } = await exitOf(r);
  expect(code, `stderr: ${r.err()}`).toBe(0);
  return { config: JSON.parse(r.out()) as Record<string, any>, out: r.out(), err: r.err() };
}

/** Run each case (three at a time: a busy 2-core machine starts Node slowly): exit 2, stderr matching `err`. */
async function expectUsageError(cases: { args: string[]; env?: Record<string, string>; err: RegExp }[]): Promise<void> {
  for (let i = 0; i < cases.length; i += 3) {
    await Promise.all(
      cases.slice(i, i + 3).map(async ({ args, env, err }) => {
        const r = run(args, env);
        const what = `${args.join(' ')} ${JSON.stringify(env ?? {})}`;
        expect(await exitOf(r), what).toEqual({ code: 2, signal: null });
        expect(r.err(), what).toMatch(err);
        expect(r.out(), what).not.toMatch(/listening on/);
      }),
    );
  }
}

describe('serve: configuration precedence', () => {
  it('flags > SIGNAL_* variables > config file > defaults, for a limit, a Redis option and the host', { timeout: 120_000 }, async () => {
    const cfg = file('precedence.json', {
      host: '127.0.0.3',
      limits: { maxFrameBytes: 2000, framesPerSecond: 10, maxChannelsPerConnection: 7 },
      redis: { ttlMs: 20_000, prefix: 'file:' },
    });
    // File only: its values over the defaults; the rest are defaults.
    const fromFile = (await printConfig(['--config', cfg])).config;
    expect(fromFile.host).toBe('127.0.0.3');
    expect(fromFile.limits).toMatchObject({ maxFrameBytes: 2000, framesPerSecond: 10, maxChannelsPerConnection: 7, frameBurst: DEFAULT_LIMITS.frameBurst });
    expect(fromFile.redis).toMatchObject({ ttlMs: 20_000, prefix: 'file:' });
    expect(fromFile.port).toBe(7070);

    // The environment over the file; flags over both (new names and the kept ones: --redis-ttl, SIGNAL_REDIS_TTL_MS).
    const env = { SIGNAL_HOST: '127.0.0.4', SIGNAL_MAX_FRAME_BYTES: '3000', SIGNAL_FRAMES_PER_SECOND: '20', SIGNAL_REDIS_TTL_MS: '30000' };
    const fromEnv = (await printConfig(['--config', cfg], env)).config;
    expect(fromEnv.host).toBe('127.0.0.4');
    expect(fromEnv.limits).toMatchObject({ maxFrameBytes: 3000, framesPerSecond: 20, maxChannelsPerConnection: 7 });
    expect(fromEnv.redis).toMatchObject({ ttlMs: 30_000, prefix: 'file:' });

    const fromFlags = (await printConfig(['--config', cfg, '--max-frame-bytes', '4000', '--redis-ttl', '40000', '--host=127.0.0.5'], env)).config;
    expect(fromFlags.host).toBe('127.0.0.5');
    expect(fromFlags.limits).toMatchObject({ maxFrameBytes: 4000, framesPerSecond: 20, maxChannelsPerConnection: 7 });
    expect(fromFlags.redis).toMatchObject({ ttlMs: 40_000, prefix: 'file:' });

    // The config file named by SIGNAL_CONFIG; --config over it.
    const other = file('other.json', { limits: { maxFrameBytes: 5000 } });
    expect((await printConfig([], { SIGNAL_CONFIG: cfg })).config.limits.maxFrameBytes).toBe(2000);
    expect((await printConfig(['--config', other], { SIGNAL_CONFIG: cfg })).config.limits.maxFrameBytes).toBe(5000);
  });

  it('limits from a config file, overridden by a variable and a flag, take effect on a running server', { timeout: 120_000 }, async () => {
    const cfg = file('live.json', { port: 0, secret: SECRET, limits: { maxFrameBytes: 1024, maxChannelsPerConnection: 5 } });
    const srv = await serve(['serve', '--config', cfg, '--max-channels-per-connection', '2'], { SIGNAL_MAX_CHANNELS_PER_CONNECTION: '3' });
    const jwt = await new SignJWT({ sub: 'alice/web', exp: Math.floor(Date.now() / 1000) + 3600 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET)); // the file's secret
    const c = await pool.connect(srv.url, jwt);
    const join = async (id: number, channel: string): Promise<Record<string, unknown>> => {
      c.send({ jsonrpc: '2.0', id, method: 'signal.join', params: { id: channel } });
      return c.next(10_000);
    };
    // The flag's 2 (not the variable's 3, nor the file's 5, nor the default 100): the third join is refused.
    expect(await join(1, 'a')).toMatchObject({ id: 1, result: { id: 'a' } });
    expect(await join(2, 'b')).toMatchObject({ id: 2, result: { id: 'b' } });
    expect(await join(3, 'c')).toMatchObject({ id: 3, error: { code: -32005 } });
    // The file's maxFrameBytes: a frame under it passes, a bigger one closes the socket with 1009.
    c.send({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'a', text: 'x'.repeat(900) } });
    c.send('_ping');
    expect((await c.nextFrame(10_000)).text).toBe('_pong');
    c.send({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'a', text: 'x'.repeat(2000) } });
    expect((await c.waitClose(10_000)).code).toBe(1009);
    await stop(srv);
  });
});

describe('serve: configuration errors exit 2 and name the key as written', () => {
  it('unknown key in the file, unknown flag, wrong type in a variable, out of range in the file, and more', { timeout: 180_000 }, async () => {
    const unknownKey = file('unknown.json', { limits: { maxFrameBytez: 1024 } });
    const unknownTop = file('unknown-top.json', { prot: 7070 });
    const outOfRange = file('range.json', { limits: { maxChannelsPerConnection: 0 } });
    const wrongType = file('type.json', { port: '7070' });
    const notObject = file('group.json', { limits: 5 });
    const badJson = file('bad.json', '{"port": ');
    const badYaml = file('bad.yaml', 'port: [0\n');
    const array = file('array.json', [1, 2]);
    await expectUsageError([
      { args: ['serve', '--config', unknownKey], err: new RegExp(`unknown key limits\\.maxFrameBytez in ${esc(unknownKey)} \\(did you mean maxFrameBytes\\?\\)`) },
      { args: ['serve', '--config', unknownTop], err: /unknown key prot in .*unknown-top\.json \(did you mean port\?\)/ },
      { args: ['serve', '--max-frame-byte', '3000'], err: /unknown option --max-frame-byte \(did you mean --max-frame-bytes\?\)/ },
      { args: ['serve'], env: { SIGNAL_MAX_FRAME_BYTES: 'abc' }, err: /SIGNAL_MAX_FRAME_BYTES must be an integer ≥ 256, got "abc"/ },
      { args: ['serve'], env: { SIGNAL_DEV_TOKENS: 'yes' }, err: /SIGNAL_DEV_TOKENS must be true, false, 1 or 0, got "yes"/ },
      { args: ['serve'], env: { SIGNAL_MAX_CONNECTIONS: 'lots' }, err: /SIGNAL_MAX_CONNECTIONS must be an integer ≥ 0 or "unlimited"/ },
      { args: ['serve', '--config', outOfRange], err: new RegExp(`limits\\.maxChannelsPerConnection in ${esc(outOfRange)} must be an integer ≥ 1, got 0`) },
      { args: ['serve', '--config', wrongType], err: /port in .*type\.json must be an integer from 0 to 65535, got "7070"/ },
      { args: ['serve', '--config', notObject], err: /limits in .*group\.json must be an object of options, got 5/ },
      { args: ['serve', '--frame-burst', '0'], err: /--frame-burst must be an integer ≥ 1, got "0"/ },
      { args: ['serve', '--redis-ttl', '10'], err: /--redis-ttl must be an integer from 1000 to 2147483647, got "10"/ },
      { args: ['serve', '--max-frame-bytes'], err: /--max-frame-bytes needs a value/ },
      // Keys checked against each other, named as given (a default by its file key).
      { args: ['serve', '--pong-timeout-ms', '3000'], err: /--pong-timeout-ms must be more than limits\.pingIntervalMs \(5000\), got 3000/ },
      { args: ['serve', '--max-frame-bytes', '100000'], env: { SIGNAL_BYTE_BURST: '50000' }, err: /SIGNAL_BYTE_BURST must be at least --max-frame-bytes \(100000\), got 50000/ },
      // Files that cannot be read as options.
      { args: ['serve', '--config', badJson], err: /config file .*bad\.json: not valid JSON/ },
      { args: ['serve', '--config', badYaml], err: /config file .*bad\.yaml: not valid YAML/ },
      { args: ['serve', '--config', array], err: /config file .*array\.json: must hold an object of options/ },
      { args: ['serve', '--config', join(dir, 'missing.json')], err: /--config: cannot read the config file/ },
      { args: ['serve'], env: { SIGNAL_CONFIG: join(dir, 'missing.json') }, err: /SIGNAL_CONFIG: cannot read the config file/ },
    ]);
  });

  it('every problem is listed at once, one line each', { timeout: 60_000 }, async () => {
    const cfg = file('several.json', { limits: { maxStateBytes: -1, nope: 1 } });
    const r = run(['serve', '--config', cfg, '--port', 'x'], { SIGNAL_FRAME_BURST: '1.5' });
    expect((await exitOf(r)).code).toBe(2);
    expect(r.err()).toMatch(/limits\.maxStateBytes in .* must be an integer ≥ 1, got -1/);
    expect(r.err()).toMatch(/unknown key limits\.nope in /);
    expect(r.err()).toMatch(/SIGNAL_FRAME_BURST must be an integer ≥ 1, got "1\.5"/);
    expect(r.err()).toMatch(/--port must be an integer from 0 to 65535, got "x"/);
  });
});

describe('serve --print-config', () => {
  it('prints the effective configuration with the secret and the Redis password redacted everywhere', { timeout: 120_000 }, async () => {
    const cfg = file('secret.json', { secret: SECRET, limits: { maxConnections: 0 } });
    const redisUrl = `redis://app:${REDIS_PASSWORD}@127.0.0.1:6379/2`;
    const { config, out, err } = await printConfig(['--config', cfg, '--public-url', 'https://signal.example'], { SIGNAL_REDIS_URL: redisUrl });
    expect(config.secret).toBe('[redacted]');
    expect(config.redis.url).toBe('redis://app:[redacted]@127.0.0.1:6379/2');
    expect(config.publicUrl).toBe('https://signal.example');
    expect(config.limits.maxConnections).toBe('unlimited'); // 0: no cap
    expect(Object.keys(config.limits).sort()).toEqual(Object.keys(DEFAULT_LIMITS).sort());
    for (const text of [out, err]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(REDIS_PASSWORD);
    }

    // Given by flag and by variable, and in a message about a bad value: never printed either.
    const byFlag = await printConfig(['--secret', SECRET, '--redis', `rediss://:${REDIS_PASSWORD}@redis.example:6380`]);
    expect(byFlag.config.redis.url).toBe('rediss://:[redacted]@redis.example:6380');
    const byEnv = await printConfig([], { SIGNAL_SECRET: SECRET });
    const wrong = run(['serve', '--config', file('secret-num.json', { secret: 12345678987654321 }), '--redis', `http://u:${REDIS_PASSWORD}@x`]);
    expect((await exitOf(wrong)).code).toBe(2);
    expect(wrong.err()).toMatch(/secret in .* must be a non-empty string, got a number \(not shown\)/);
    expect(wrong.err()).toMatch(/--redis must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/u:\[redacted\]@x"/);
    for (const text of [byFlag.out, byFlag.err, byEnv.out, byEnv.err, wrong.out(), wrong.err()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(REDIS_PASSWORD);
      expect(text).not.toContain('12345678987654321');
    }
  });

  it('its output is a config file giving the same configuration (the same names); YAML files work too', { timeout: 120_000 }, async () => {
    const first = await printConfig(['--max-connections', '500', '--allow-no-exp', '--dev-tokens', '--redis-prefix', 'a:']);
    expect(first.config).toMatchObject({ requireExp: false, devTokens: true, redis: { prefix: 'a:' }, limits: { maxConnections: 500 } });
    const again = await printConfig(['--config', file('round-trip.json', first.config)]);
    expect(again.config).toEqual(first.config);

    const yaml = file('signal.yaml', 'port: 0\nrequireExp: false\nlimits:\n  maxConnections: unlimited\n  pingIntervalMs: 2000\nredis:\n  ttlMs: 15000\n');
    const fromYaml = (await printConfig(['--config', yaml])).config;
    expect(fromYaml).toMatchObject({ port: 0, requireExp: false, limits: { maxConnections: 'unlimited', pingIntervalMs: 2000 }, redis: { ttlMs: 15_000 } });
  });

  it('an unknown SIGNAL_* variable is a warning naming the closest option, not an error', { timeout: 60_000 }, async () => {
    const { config, err } = await printConfig([], { SIGNAL_PROT: '1234' });
    expect(config.port).toBe(7070);
    expect(err).toMatch(/warning: SIGNAL_PROT is not an option of serve, ignored \(did you mean SIGNAL_PORT\?\)/);
  });
});

describe('--version and --help', () => {
  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = run(['--version']);
    expect(await exitOf(r)).toEqual({ code: 0, signal: null });
    expect(r.out()).toBe(`${version}\n`);
  });

  it('serve --help lists every limit with its flag, variable and file key, and the config flags', async () => {
    const r = run(['serve', '--help']);
    expect(await exitOf(r)).toEqual({ code: 0, signal: null });
    const help = r.out();
    for (const key of Object.keys(DEFAULT_LIMITS)) {
      expect(help).toContain(`--${kebab(key)} `);
      expect(help).toContain(`SIGNAL_${snake(key)} `);
      expect(help).toContain(`"limits.${key}"`);
    }
    for (const [flag, envName, key] of [
      ['--redis-url, --redis', 'SIGNAL_REDIS_URL', 'redis.url'],
      ['--redis-ttl-ms, --redis-ttl', 'SIGNAL_REDIS_TTL_MS', 'redis.ttlMs'],
      ['--public-url', 'SIGNAL_PUBLIC_URL', 'publicUrl'],
      ['--allow-no-exp', 'SIGNAL_ALLOW_NO_EXP', 'requireExp'],
    ] as const) {
      expect(help).toContain(flag);
      expect(help).toContain(envName);
      expect(help).toContain(`"${key}"`);
    }
    for (const flag of ['--config', 'SIGNAL_CONFIG', '--print-config', '--version', 'flags > environment > config file > defaults']) expect(help).toContain(flag);
    expect(help).toMatch(/--max-frame-bytes N +largest accepted text frame[^[]*\[default: 65536\]/);
  });
});
