import { parseArgs } from 'node:util';
import type { Broker } from '../server/broker.js';
import { createSignalServer } from '../server/node-server.js';

const HELP = `Usage: react-signal-service serve [options]

Start a signal server (Bit6 Signal v2 protocol) on ws + http.

Options:
  --port N           port to listen on (env SIGNAL_PORT)              [default: 7070]
  --host H           interface to bind (env SIGNAL_HOST)              [default: 127.0.0.1]
  --secret S         HS256 secret for tokens (env SIGNAL_SECRET)      [default: a development secret]
  --dev-tokens       serve POST /token {identity, device?} -> {token} (env SIGNAL_DEV_TOKENS=1)
  --redis URL        use Redis to connect several processes (env SIGNAL_REDIS_URL)
  --redis-ttl MS     presence TTL across processes: a crashed process's members leave within it
                     (env SIGNAL_REDIS_TTL_MS)                            [default: 10000]
  --public-url URL   base URL clients use, put in dev tokens' aud (env SIGNAL_PUBLIC_URL)
  -h, --help         show this help

Endpoints: ws /signal/v1/pubsub?jwt=…, ws /signal/pubsub?jwt=…, GET /healthz, POST /token (with --dev-tokens).
`;

/** The development secret used when none is given. Never use it in production. */
export const DEV_SECRET = 'react-signal-service-development-secret';

/** Run the CLI with `argv` (without node and script). Resolves with the exit code for usage errors. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        secret: { type: 'string' },
        'dev-tokens': { type: 'boolean' },
        redis: { type: 'string' },
        'redis-ttl': { type: 'string' },
        'public-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    process.stderr.write(`${positionals.length ? `unknown command: ${positionals.join(' ')}\n\n` : ''}${HELP}`);
    return 2;
  }
  const port = Number(values.port ?? env.SIGNAL_PORT ?? 7070);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer from 0 to 65535\n`);
    return 2;
  }
  const host = values.host ?? env.SIGNAL_HOST ?? '127.0.0.1';
  let secret = values.secret ?? env.SIGNAL_SECRET;
  if (!secret) {
    secret = DEV_SECRET;
    process.stderr.write('warning: no --secret or SIGNAL_SECRET given: using the development secret (never in production)\n');
  }
  const devTokens = values['dev-tokens'] ?? (env.SIGNAL_DEV_TOKENS === '1' || env.SIGNAL_DEV_TOKENS === 'true');
  const redisUrl = values.redis ?? env.SIGNAL_REDIS_URL;
  const publicUrl = values['public-url'] ?? env.SIGNAL_PUBLIC_URL;
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(publicUrl)) {
    process.stderr.write(`--public-url must be an http(s):// base URL, got ${JSON.stringify(publicUrl)}\n`);
    return 2;
  }
  let broker: Broker | undefined;
  const ttlText = values['redis-ttl'] ?? env.SIGNAL_REDIS_TTL_MS;
  const ttlMs = ttlText === undefined ? undefined : Number(ttlText);
  if (ttlMs !== undefined && (!Number.isInteger(ttlMs) || ttlMs < 1000)) {
    process.stderr.write(`--redis-ttl must be an integer number of milliseconds, at least 1000\n`);
    return 2;
  }
  if (redisUrl) {
    const { RedisBroker } = await import('../server/redis-broker.js');
    broker = new RedisBroker({ url: redisUrl, ...(ttlMs === undefined ? {} : { ttlMs }) });
  }
  const server = createSignalServer({
    secret,
    devTokens,
    ...(broker ? { broker } : {}),
    ...(publicUrl ? { publicUrl } : {}),
  });
  let url: string;
  try {
    ({ url } = await server.listen(port, host));
  } catch (e) {
    process.stderr.write(`cannot listen on ${host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`react-signal-service listening on ${url}${devTokens ? ` (dev tokens: POST ${url}/token)` : ''}${redisUrl ? ' (redis broker)' : ''}\n`);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${sig}: shutting down\n`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return undefined;
}
