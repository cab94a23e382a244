import { readFileSync } from 'node:fs';
import { importSPKI, type JSONWebKeySet } from 'jose';
import type { AuthOptions } from '../server/auth.js';
import type { Broker } from '../server/broker.js';
import { createSignalServer } from '../server/node-server.js';
import { loadConfig, parseArgv, printable, redactUrl, UsageError, type Argv, type Loaded } from './config.js';
import { helpText } from './help.js';
import { createLogger } from './logger.js';
import { ALGS, type Config } from './schema.js';

/** The development secret used when none is given. Never use it in production. */
export const DEV_SECRET = 'react-signal-service-development-secret';

/** Run the CLI with `argv` (without node and script). Resolves with the exit code for usage errors. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const warn = (text: string): void => void process.stderr.write(`warning: ${text}\n`);
  const usage = (lines: string[]): number => {
    process.stderr.write(`${lines.join('\n')}\n(react-signal-service serve --help lists every option)\n`);
    return 2;
  };
  let args: Argv;
  try {
    args = parseArgv(argv);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.lines);
    throw e;
  }
  const { positionals } = args;
  if (args.help || positionals[0] === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    if (!(args.printConfig && positionals.length === 0)) {
      process.stderr.write(`${positionals.length ? `unknown command: ${positionals.join(' ')}\n\n` : ''}${helpText()}`);
      return 2;
    }
  }
  let loaded: Loaded;
  try {
    loaded = await loadConfig(args, env, warn);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.lines);
    throw e;
  }
  const { config } = loaded;
  const auth = await authOptions(config, loaded.from, warn);
  if (typeof auth === 'string') return usage([auth]);
  if (args.printConfig) {
    process.stdout.write(`${JSON.stringify(printable(config), null, 2)}\n`);
    return 0;
  }
  const { port, host, devTokens, redis, webhook } = config;
  const { log } = await createLogger(config.logLevel, config.logFormat);
  process.on('uncaughtException', (e) => {
    log.fatal({ event: 'fault.uncaught', err: { type: e?.name, message: e?.message, stack: e?.stack } }, 'uncaught exception: exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    const err = e as Error | undefined;
    log.error({ event: 'fault.unhandled_rejection', err: { type: err?.name, message: err?.message ?? String(e), stack: err?.stack } }, 'unhandled rejection');
  });
  let broker: Broker | undefined;
  if (redis.url) {
    try {
      await import('ioredis'); // an optional peer dependency: only apps that scale out install it
    } catch {
      process.stderr.write(`${loaded.from('redis.url') ?? '--redis'} needs the ioredis package: npm install ioredis\n`);
      return 2;
    }
    const { RedisBroker } = await import('../server/redis-broker.js');
    broker = new RedisBroker({
      url: redis.url,
      ttlMs: redis.ttlMs,
      prefix: redis.prefix,
      commandTimeoutMs: redis.commandTimeoutMs,
      readyTimeoutMs: redis.readyTimeoutMs,
      onError: (e) => log.debug({ event: 'broker.error', message: e.message }, 'broker connection error'),
    });
  }
  const { devTokenAudience, ...authOpts } = auth;
  const server = createSignalServer({
    ...authOpts,
    devTokens,
    limits: config.limits,
    logger: log,
    metrics: config.metrics,
    drainMs: config.drainMs,
    corsOrigins: config.corsOrigins,
    ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
    ...(config.apiKeys?.length ? { apiKeys: config.apiKeys } : {}),
    ...(broker ? { broker } : {}),
    ...(webhook.urls?.length ? { webhook: { ...webhook, urls: webhook.urls, secret: webhook.secret!, onWarning: warn } } : {}),
    // The server puts `publicUrl` in dev tokens' `aud` (never a request's Host header when it is set).
    ...(devTokenAudience ? { publicUrl: devTokenAudience } : {}),
  });
  let url: string;
  try {
    ({ url } = await server.listen(port, host));
  } catch (e) {
    process.stderr.write(`cannot listen on ${host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  // SIGTERM drains: /readyz 503, new upgrades refused, connections closed with 1012 spread over drainMs so they come
  // back with jitter (to another process behind the balancer, or to this one's successor). `--drain-ms 0` and SIGINT
  // close every connection at once with 1001.
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) {
      log.warn({ event: 'server.exit_now', signal: sig }, `${sig} again: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${sig}: shutting down\n`);
    const drain = sig === 'SIGTERM' && config.drainMs > 0;
    const started = drain ? server.drain({ ms: config.drainMs }) : Promise.resolve();
    void started
      .then(() => {
        const force = setTimeout(() => process.exit(0), 5000);
        force.unref();
        return server.close();
      })
      .then(
        () => process.exit(0),
        () => process.exit(0),
      );
  };
  // Before the listening line: whoever reads it may signal at once.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info({ event: 'server.listening', url, config: printable(config) }, 'server listening');
  process.stdout.write(`react-signal-service listening on ${url}${devTokens ? ` (dev tokens: POST ${url}/token)` : ''}${redis.url ? ' (redis broker)' : ''}\n`);
  return undefined;
}

/** This package's version (package.json, two folders up from dist/cli/ and src/cli/). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

type Alg = (typeof ALGS)[number];

/**
 * The token checks from the configuration, with warnings on stderr; a string is a usage error (exit 2). `from(key)`
 * names a key the way the user gave it (`--secret`, `SIGNAL_SECRET`, `secret in ./signal.json`).
 */
async function authOptions(
  config: Config,
  from: (key: string) => string | undefined,
  warn: (text: string) => void,
): Promise<(AuthOptions & { devTokenAudience?: string }) | string> {
  const given = <K extends 'secret' | 'publicKey' | 'jwks' | 'publicKeyAlg' | 'audience' | 'issuer'>(key: K) => {
    const value = config[key];
    return value === undefined ? undefined : { value: value as NonNullable<Config[K]>, from: from(key) ?? key };
  };
  const { devTokens, publicUrl } = config;
  const secret = given('secret');
  const publicKey = given('publicKey');
  const jwks = given('jwks');
  const algIn = given('publicKeyAlg');
  const audienceIn = given('audience');
  const issuer = given('issuer');
  const keys = [secret, publicKey, jwks].filter((o) => o !== undefined);
  if (keys.length > 1) {
    return `give exactly one of --secret, --public-key or --jwks (or their SIGNAL_* variables, or config keys); got ${keys.map((o) => o.from).join(', ')}`;
  }
  if (algIn && !publicKey) return `${algIn.from} needs --public-key (or SIGNAL_PUBLIC_KEY, or publicKey in the config file)`;
  const out: AuthOptions & { devTokenAudience?: string } = {};

  if (publicKey) {
    const alg: Alg = algIn?.value ?? 'RS256';
    let pem = publicKey.value;
    if (!pem.includes('-----BEGIN')) {
      try {
        pem = readFileSync(pem, 'utf8');
      } catch (e) {
        return `${publicKey.from}: cannot read the PEM file ${JSON.stringify(publicKey.value)}: ${(e as Error).message}`;
      }
    }
    try {
      await importSPKI(pem, alg);
    } catch (e) {
      return `${publicKey.from}: not an SPKI public key PEM for ${alg}: ${(e as Error).message}`;
    }
    out.publicKey = pem;
    out.publicKeyAlg = alg;
  } else if (jwks) {
    if (/^https?:\/\//i.test(jwks.value)) {
      try {
        new URL(jwks.value);
      } catch {
        return `${jwks.from}: not a valid URL: ${JSON.stringify(redactUrl(jwks.value))}`;
      }
      out.jwks = jwks.value;
    } else {
      let set: unknown;
      try {
        set = JSON.parse(readFileSync(jwks.value, 'utf8'));
      } catch (e) {
        return `${jwks.from}: cannot read a JSON key set from ${JSON.stringify(jwks.value)}: ${(e as Error).message}`;
      }
      if (typeof set !== 'object' || set === null || !Array.isArray((set as JSONWebKeySet).keys)) {
        return `${jwks.from}: ${JSON.stringify(jwks.value)} is not a JWKS ({"keys": [...]})`;
      }
      out.jwks = set as JSONWebKeySet;
    }
  } else if (secret) {
    out.secret = secret.value;
    const bytes = Buffer.byteLength(secret.value);
    if (bytes < 32) warn(`${secret.from} is ${bytes} bytes: use at least 32 random bytes (HS256 secrets are guessable offline)`);
  } else {
    out.secret = DEV_SECRET;
    warn('no --secret, SIGNAL_SECRET or config secret given: using the development secret (never in production)');
  }

  const audience = audienceIn?.value ?? publicUrl;
  if (audience === undefined) {
    warn('no --audience or --public-url (SIGNAL_AUDIENCE, SIGNAL_PUBLIC_URL): tokens for any audience (aud) are accepted');
  } else {
    out.audience = audience;
  }
  if (issuer) out.issuer = issuer.value;
  if (!config.requireExp) {
    out.requireExp = false;
    warn(`${from('requireExp') ?? '--allow-no-exp'}: tokens without exp are accepted and valid for ever`);
  }
  out.clockToleranceSec = config.clockToleranceSec;

  if (devTokens) {
    if (out.secret === undefined) return '--dev-tokens needs an HS256 secret (not --public-key or --jwks)';
    if (out.secret !== DEV_SECRET) {
      warn('--dev-tokens with your secret: anyone who reaches this port can mint tokens signed with it (development only)');
    }
    // Dev tokens carry aud = --public-url, else the audience checked: never one the server would refuse.
    const aud = publicUrl ?? audience;
    if (audience !== undefined && aud !== audience) {
      return `--dev-tokens: dev tokens carry aud = --public-url (${aud}), which --audience (${audience}) refuses; make them equal or leave one out`;
    }
    if (aud !== undefined) out.devTokenAudience = aud;
  }
  return out;
}
