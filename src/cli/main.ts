import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importSPKI, type JSONWebKeySet } from 'jose';
import type { AuthOptions } from '../server/auth.js';
import type { Broker } from '../server/broker.js';
import { createSignalServer } from '../server/node-server.js';

const HELP = `Usage: react-signal-service serve [options]

Start a signal server (Bit6 Signal v2 protocol) on ws + http.

Options:
  --port N             port to listen on (env SIGNAL_PORT)                    [default: 7070]
  --host H             interface to bind (env SIGNAL_HOST)                    [default: 127.0.0.1]
  --public-url URL     base URL clients use: the audience tokens must carry and dev tokens' aud
                       (env SIGNAL_PUBLIC_URL)
  --redis URL          use Redis to connect several processes (env SIGNAL_REDIS_URL)
  --redis-ttl MS       presence TTL across processes: a crashed process's members leave within it
                       (env SIGNAL_REDIS_TTL_MS)                              [default: 10000]
  -h, --help           show this help

Tokens: give one of --secret, --public-key, --jwks (none: the development secret, never in production).
  --secret S           HS256 secret, 32 random bytes or more (env SIGNAL_SECRET)
  --public-key K       verify with a public key: a PEM file path or the PEM text (env SIGNAL_PUBLIC_KEY)
  --public-key-alg A   its algorithm: RS256, ES256, PS256 or EdDSA            [default: RS256]
                       (env SIGNAL_PUBLIC_KEY_ALG)
  --jwks J             verify with a JWKS: an http(s) URL or a JSON file path (env SIGNAL_JWKS)
  --audience A         the aud tokens must carry (env SIGNAL_AUDIENCE)        [default: --public-url]
                       (with neither, tokens for any audience are accepted)
  --issuer I           the iss tokens must carry (env SIGNAL_ISSUER)          [default: not checked]
  --allow-no-exp       accept tokens without exp, valid for ever (env SIGNAL_ALLOW_NO_EXP=1)
                       (default: refused; iat and nbf more than 30 s ahead are refused too)
  --dev-tokens         serve POST /token {identity, device?} -> {token} with aud = --public-url, else
                       --audience (env SIGNAL_DEV_TOKENS=1; an HS256 secret only; development only:
                       anyone who reaches the port can mint tokens)

Endpoints: ws /signal/v1/pubsub?jwt=…, ws /signal/pubsub?jwt=…, GET /healthz, POST /token (with --dev-tokens).
`;

/** The development secret used when none is given. Never use it in production. */
export const DEV_SECRET = 'react-signal-service-development-secret';

/** Run the CLI with `argv` (without node and script). Resolves with the exit code for usage errors. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  let parsed;
  try {
    parsed = parseArgs({
      args: pemArgs(argv),
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        secret: { type: 'string' },
        'public-key': { type: 'string' },
        'public-key-alg': { type: 'string' },
        jwks: { type: 'string' },
        audience: { type: 'string' },
        issuer: { type: 'string' },
        'allow-no-exp': { type: 'boolean' },
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
  const devTokens = values['dev-tokens'] ?? isTrue(env.SIGNAL_DEV_TOKENS);
  const redisUrl = values.redis ?? env.SIGNAL_REDIS_URL;
  const publicUrl = values['public-url'] ?? env.SIGNAL_PUBLIC_URL;
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(publicUrl)) {
    process.stderr.write(`--public-url must be an http(s):// base URL, got ${JSON.stringify(publicUrl)}\n`);
    return 2;
  }
  const auth = await authOptions(values, env, devTokens, publicUrl);
  if (typeof auth === 'string') {
    process.stderr.write(`${auth}\n`);
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
    try {
      await import('ioredis'); // an optional peer dependency: only apps that scale out install it
    } catch {
      process.stderr.write('--redis needs the ioredis package: npm install ioredis\n');
      return 2;
    }
    const { RedisBroker } = await import('../server/redis-broker.js');
    broker = new RedisBroker({ url: redisUrl, ...(ttlMs === undefined ? {} : { ttlMs }) });
  }
  const { devTokenAudience, ...authOpts } = auth;
  const server = createSignalServer({
    ...authOpts,
    devTokens,
    ...(broker ? { broker } : {}),
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
  // Before the listening line: whoever reads it may signal at once.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdout.write(`react-signal-service listening on ${url}${devTokens ? ` (dev tokens: POST ${url}/token)` : ''}${redisUrl ? ' (redis broker)' : ''}\n`);
  return undefined;
}

const ALGS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;
type Alg = (typeof ALGS)[number];

const isTrue = (v: string | undefined): boolean => v === '1' || v === 'true';

/** `--public-key "-----BEGIN…"` as `--public-key=-----BEGIN…` (parseArgs takes a value starting with `-` for a flag). */
function pemArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--public-key' && next !== undefined && next.startsWith('-----BEGIN')) {
      out.push(`--public-key=${next}`);
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
}

/** A flag's value, else the env var's, with where it came from (for messages). */
function pick(flag: string | undefined, name: string, envName: string, env: NodeJS.ProcessEnv): { value: string; from: string } | undefined {
  if (flag !== undefined) return { value: flag, from: `--${name}` };
  const v = env[envName];
  return v === undefined ? undefined : { value: v, from: envName };
}

/**
 * The token checks from the flags and the environment (flags win), with warnings on stderr;
 * a string is a usage error (exit 2).
 */
async function authOptions(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
  devTokens: boolean,
  publicUrl: string | undefined,
): Promise<(AuthOptions & { devTokenAudience?: string }) | string> {
  const str = (name: string, envName: string) => pick(values[name] as string | undefined, name, envName, env);
  const secret = str('secret', 'SIGNAL_SECRET');
  const publicKey = str('public-key', 'SIGNAL_PUBLIC_KEY');
  const jwks = str('jwks', 'SIGNAL_JWKS');
  const algIn = str('public-key-alg', 'SIGNAL_PUBLIC_KEY_ALG');
  const audienceIn = str('audience', 'SIGNAL_AUDIENCE');
  const issuer = str('issuer', 'SIGNAL_ISSUER');
  for (const o of [secret, publicKey, jwks, algIn, audienceIn, issuer]) {
    if (o && o.value.trim() === '') return `${o.from} is empty: give a value or leave it out`;
  }
  const keys = [secret, publicKey, jwks].filter((o) => o !== undefined);
  if (keys.length > 1) {
    return `give exactly one of --secret, --public-key or --jwks (or their SIGNAL_* variables); got ${keys.map((o) => o.from).join(', ')}`;
  }
  if (algIn && !publicKey) return `${algIn.from} needs --public-key (or SIGNAL_PUBLIC_KEY)`;
  if (algIn && !(ALGS as readonly string[]).includes(algIn.value)) {
    return `${algIn.from} must be one of ${ALGS.join(', ')}, got ${JSON.stringify(algIn.value)}`;
  }
  const out: AuthOptions & { devTokenAudience?: string } = {};
  const warn = (text: string): void => void process.stderr.write(`warning: ${text}\n`);

  if (publicKey) {
    const alg = (algIn?.value ?? 'RS256') as Alg;
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
        return `${jwks.from}: not a valid URL: ${JSON.stringify(jwks.value)}`;
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
    warn('no --secret or SIGNAL_SECRET given: using the development secret (never in production)');
  }

  const audience = audienceIn?.value ?? publicUrl;
  if (audience === undefined) {
    warn('no --audience or --public-url (SIGNAL_AUDIENCE, SIGNAL_PUBLIC_URL): tokens for any audience (aud) are accepted');
  } else {
    out.audience = audience;
  }
  if (issuer) out.issuer = issuer.value;
  if (values['allow-no-exp'] ?? isTrue(env.SIGNAL_ALLOW_NO_EXP)) {
    out.requireExp = false;
    warn('--allow-no-exp: tokens without exp are accepted and valid for ever');
  }

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
