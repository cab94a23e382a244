/**
 * The one schema of `react-signal-service serve`'s configuration (zod). It gives the types (`Config`), the defaults,
 * the `--help` text (help.ts walks it), the flag and environment variable names (names.ts derives them from the keys)
 * and the validation errors. Its keys are `createSignalServer`'s option names (and `RedisBrokerOptions`' under
 * `redis`), so a config file reads like the options object.
 */
import * as z from 'zod';
import { DEFAULT_LIMITS, type Limits } from '../protocol/constants.js';
import type { RedisBrokerOptions } from '../server/redis-options.js';
import type { SignalServerOptions } from '../server/node-server.js';
import type { WebhookOptions } from '../server/webhooks/index.js';

/** What the CLI needs to know about an option beyond its type: attached to the schema through {@link cliMeta}. */
export interface OptionMeta {
  /** One line for `--help`. */
  help: string;
  /** The value's placeholder in `--help` (`N`, `URL`, …). */
  metavar?: string;
  /** Text of the default in `--help` when the schema's default is not the whole story. */
  defaultText?: string;
  /** What a value must be, when the type alone cannot say it (a URL, …); else generated from the type. */
  expects?: string;
  /** Names kept from earlier versions, besides the derived `--flag` (e.g. `--redis` for `--redis-url`). */
  flagAliases?: string[];
  /**
   * The flag and variable name instead of the derived ones, for a boolean whose name says its negation
   * (`requireExp` is `--allow-no-exp` / `SIGNAL_ALLOW_NO_EXP`, as before: `true` there means `requireExp: false`).
   */
  inverted?: { flag: string; env: string };
  /** Variable names accepted besides the derived one (e.g. `SIGNAL_API_KEY` for `apiKeys`). */
  envAliases?: string[];
  /** Never printed: `value` (the whole value), `url` (a password or key inside a URL). */
  secret?: 'value' | 'url';
  /** In a config file, a relative file path here is taken relative to the file's folder. */
  path?: boolean;
  /** `--help` starts a section with this option. */
  section?: GroupMeta;
}

/** Metadata of a group (a nested object). */
export interface GroupMeta {
  /** Heading in `--help`. */
  title: string;
  /** Lines under the heading. */
  notes?: string[];
  /** Flags and variables of its keys leave the group's name out (`limits.maxFrameBytes` is `--max-frame-bytes`). */
  flatten?: boolean;
}

export const cliMeta = z.registry<OptionMeta>();
export const groupMeta = z.registry<GroupMeta>();

function option<T extends z.ZodType>(schema: T, meta: OptionMeta): T {
  cliMeta.add(schema as z.ZodType, meta);
  return schema;
}

/** setTimeout's largest delay (a larger one fires at once). */
const MAX_MS = 2_147_483_647;
const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.int().min(min).max(max);
const ms = (min: number) => int(min, MAX_MS);
/** A string with something in it (empty or blank: 'is empty'). */
const text = () => z.string().regex(/\S/);

/** One limit: an integer with its range, `DEFAULT_LIMITS`' value as the default. */
const limit = (key: keyof Limits, min: number, help: string, max?: number) =>
  option(int(min, max ?? (key.endsWith('Ms') ? MAX_MS : Number.MAX_SAFE_INTEGER)).default(DEFAULT_LIMITS[key]), { help, metavar: key.endsWith('Ms') ? 'MS' : 'N' });

export const ALGS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every limit of `DEFAULT_LIMITS` (the `satisfies` below fails to compile when one is missing or unknown). */
const limitsShape = {
  maxFrameBytes: limit('maxFrameBytes', 256, 'largest accepted text frame, in bytes (a bigger one closes the socket with 1009)'),
  maxChannelsPerConnection: limit('maxChannelsPerConnection', 1, 'channels one connection may be joined to at once'),
  maxChannelNameLength: limit('maxChannelNameLength', 1, 'longest channel name, in characters'),
  maxAddressLength: limit('maxAddressLength', 1, 'longest address (to), in characters'),
  framesPerSecond: limit('framesPerSecond', 1, 'sustained frames per second per connection'),
  frameBurst: limit('frameBurst', 1, 'frames a connection may send in a burst above that rate'),
  bytesPerSecond: limit('bytesPerSecond', 1, 'sustained bytes per second per connection'),
  byteBurst: limit('byteBurst', 1, 'bytes a connection may send in a burst above that rate (at least --max-frame-bytes)'),
  maxStateBytes: limit('maxStateBytes', 1, "largest presence state, in bytes of its JSON"),
  maxMembersPerChannel: limit('maxMembersPerChannel', 1, 'members one channel may hold on this process'),
  maxConnectionsPerIdentity: limit('maxConnectionsPerIdentity', 1, 'open connections of one identity on this process (more: closed 4430)'),
  maxConnections: option(z.union([int(0), z.literal('unlimited')]).default('unlimited'), {
    help: 'open connections on this process (more: closed 1013); 0 or "unlimited": no cap',
    metavar: 'N',
    expects: 'an integer ≥ 0 or "unlimited" (0 and "unlimited": no cap)',
  }),
  maxBufferedBytes: limit('maxBufferedBytes', 1, 'bytes queued for one reader above which it counts as behind'),
  slowConsumerMs: limit('slowConsumerMs', 1, 'how long a reader may stay behind before it is dropped as a slow consumer'),
  maxBufferedHardBytes: option(int(1).optional(), {
    help: 'bytes queued for one reader past which it is dropped at once',
    metavar: 'N',
    defaultText: `4 × --max-buffered-bytes (${DEFAULT_LIMITS.maxBufferedHardBytes})`,
  }),
  maxPendingCalls: limit('maxPendingCalls', 0, 'calls one connection may have waiting behind an unfinished one (a join on authorize)'),
  maxPendingBytes: limit('maxPendingBytes', 0, 'bytes of frames one connection may have waiting behind an unfinished call'),
  pingIntervalMs: limit('pingIntervalMs', 100, 'time a silent socket has to answer a ping (pinged after --pong-timeout-ms minus this of silence)'),
  pongTimeoutMs: limit('pongTimeoutMs', 100, 'a socket silent this long (no frame, no pong) is dropped (more than --ping-interval-ms)'),
  closeTimeoutMs: limit('closeTimeoutMs', 1, 'a socket that does not answer the close handshake is dropped after this'),
  authorizeTimeoutMs: limit('authorizeTimeoutMs', 1, 'an authorize hook that has not answered by then refuses the join'),
} satisfies Record<keyof Limits, z.ZodType>;

const redisShape = {
  url: option(z.url({ protocol: /^rediss?$/ }).optional(), {
    help: 'connect several processes through Redis (needs the ioredis package)',
    metavar: 'URL',
    flagAliases: ['redis'],
    expects: 'a redis:// or rediss:// URL',
    secret: 'url',
  }),
  ttlMs: option(ms(1000).default(10_000), { help: "presence TTL across processes: a crashed process's members leave within it", metavar: 'MS', flagAliases: ['redis-ttl'] }),
  prefix: option(text().default('sig:'), { help: 'prefix of every Redis key and pub/sub channel (one per deployment)', metavar: 'P' }),
  commandTimeoutMs: option(ms(1).default(3000), { help: 'bound on each Redis command, so a hung Redis never holds a join', metavar: 'MS' }),
  readyTimeoutMs: option(ms(1).default(5000), { help: 'how long startup waits for Redis before starting anyway', metavar: 'MS' }),
} satisfies { [K in keyof RedisBrokerOptions]?: z.ZodType };

// ---- Webhooks (createSignalServer's `webhook` option; README "Webhooks") ----------------------------------------
const webhookShape = {
  urls: option(z.array(z.url({ protocol: /^https?$/ })).optional(), {
    help: 'POST membership events to this URL (repeat the flag for several; the variable lists them with commas)',
    metavar: 'URL',
    flagAliases: ['webhook'],
    expects: 'http(s) URLs',
    secret: 'url',
  }),
  secret: option(text().optional(), { help: "signing secret (Standard Webhooks): whsec_<base64>, or any string", metavar: 'S', secret: 'value' }),
  state: option(z.boolean().default(false), { help: 'also send member.state events (each state a presence member sets)' }),
  replaceGraceMs: option(ms(0).default(5000), { help: "how long a replaced connection stays a member while its successor rejoins (no left/joined pair)", metavar: 'MS' }),
  maxQueue: option(int(1).default(10_000), { help: 'events queued per webhook URL at most; past it the oldest are dropped (counted, logged)', metavar: 'N' }),
  timeoutMs: option(ms(1).default(10_000), { help: 'a webhook POST with no answer by then is aborted and retried', metavar: 'MS' }),
  maxAttempts: option(int(1, 100).default(8), { help: 'tries per batch of events (backoff with jitter between them)', metavar: 'N' }),
} satisfies { [K in keyof WebhookOptions]?: z.ZodType };
// ---- end of Webhooks ------------------------------------------------------------------------------------------

const topShape = {
  port: option(int(0, 65535).default(7070), { help: 'port to listen on (0 picks a free one)', metavar: 'N', section: { title: 'Server' } }),
  host: option(text().default('127.0.0.1'), { help: 'interface to bind (0.0.0.0: every one)', metavar: 'H' }),
  publicUrl: option(z.url({ protocol: /^https?$/ }).optional(), {
    help: 'base URL clients use: the audience tokens must carry, and dev tokens\' aud',
    metavar: 'URL',
    expects: 'an http(s):// base URL',
    secret: 'url',
  }),
  secret: option(text().optional(), {
    help: 'HS256 secret, 32 random bytes or more',
    metavar: 'S',
    secret: 'value',
    section: { title: 'Tokens', notes: ['Give one of --secret, --public-key, --jwks (none: the development secret, never in production).'] },
  }),
  publicKey: option(text().optional(), { help: 'verify with a public key: a PEM file path or the PEM text', metavar: 'K', path: true }),
  publicKeyAlg: option(z.enum(ALGS).optional(), { help: "the public key's algorithm", metavar: 'A', defaultText: 'RS256' }),
  jwks: option(text().optional(), { help: 'verify with a JWKS: an http(s) URL or a JSON file path', metavar: 'J', path: true, secret: 'url' }),
  audience: option(text().optional(), {
    help: 'the aud tokens must carry (with neither this nor --public-url, any audience is accepted)',
    metavar: 'A',
    defaultText: '--public-url',
  }),
  issuer: option(text().optional(), { help: 'the iss tokens must carry', metavar: 'I', defaultText: 'not checked' }),
  requireExp: option(z.boolean().default(true), {
    help: 'accept tokens without exp, valid for ever (file: "requireExp": false)',
    inverted: { flag: 'allow-no-exp', env: 'SIGNAL_ALLOW_NO_EXP' },
    defaultText: 'refused',
  }),
  clockToleranceSec: option(int(0, 86_400).default(30), { help: 'iat and nbf further ahead than this are refused, in seconds', metavar: 'S' }),
  corsOrigins: option(z.array(text()).min(1).default(['*']), {
    help: 'Origins allowed to call POST /token from a browser (Access-Control-Allow-Origin); * for any',
    metavar: 'O,O',
  }),
  devTokens: option(z.boolean().default(false), {
    help: "serve POST /token {identity, device?} -> {token}, aud = --public-url, else --audience (an HS256 secret only; development only: anyone who reaches the port can mint tokens)",
  }),
  allowedOrigins: option(z.array(text()).optional(), {
    help: 'Origin headers a WebSocket upgrade may carry (another one: 403 before any WebSocket); an upgrade without Origin (not a browser) is allowed',
    metavar: 'O,O',
    defaultText: 'any origin',
    section: { title: 'Operations' },
  }),
  logLevel: option(z.enum(LOG_LEVELS).default('info'), { help: 'least severe log level written', metavar: 'L' }),
  logFormat: option(z.enum(['json', 'pretty', 'auto']).default('auto'), {
    help: 'log lines as JSON, or pretty for people; auto: pretty when stdout is a terminal',
    metavar: 'F',
  }),
  metrics: option(z.boolean().default(true), { help: 'serve GET /metrics (Prometheus text) and count for it (file "metrics": false, or SIGNAL_METRICS=0, turns it off)' }),
  drainMs: option(ms(0).default(5000), {
    help: 'on SIGTERM: /readyz turns 503, new upgrades are refused, connections are closed with 1012 spread over this time, then exit',
    metavar: 'MS',
  }),
  // ---- Server API (HTTP, under /api/v1/) ----
  apiKeys: option(z.array(z.string().regex(/^\S{16,}$/)).optional(), {
    help: 'a key of the HTTP server API under /api/v1/ (Authorization: Bearer K); repeat the flag for several, comma separated in the variable; none: the API answers 404',
    metavar: 'K',
    expects: 'keys of at least 16 characters without spaces',
    secret: 'value',
    flagAliases: ['api-key'],
    envAliases: ['SIGNAL_API_KEY'],
    section: { title: 'Server API' },
  }),
  // ---- end of Server API ----
  redis: z.strictObject(redisShape).prefault({}).register(groupMeta, { title: 'Redis (several processes)' }),
  webhook: z.strictObject(webhookShape).prefault({}).register(groupMeta, {
    title: 'Webhooks',
    notes: ['Signed POSTs of channel.occupied, channel.vacated, member.joined, member.left (and member.state) to your backend.'],
  }),
  limits: z.strictObject(limitsShape).prefault({}).register(groupMeta, {
    title: 'Limits (per connection unless said otherwise; MS: milliseconds)',
    flatten: true,
  }),
};

/** The options as each source gives them (every key optional), checked key by key. */
export const ConfigShape = z.strictObject(topShape);

/** The whole configuration after merging the sources: cross-key checks, then the values the server takes. */
export const ConfigSchema = ConfigShape.superRefine((c, ctx) => {
  const l = c.limits;
  const issue = (path: string[], message: string): void => void ctx.addIssue({ code: 'custom', path: ['limits', ...path], message });
  if (l.pongTimeoutMs <= l.pingIntervalMs) {
    issue(['pongTimeoutMs'], `must be more than {limits.pingIntervalMs} (${l.pingIntervalMs}), got ${l.pongTimeoutMs}: every socket would be dropped between two pings`);
  }
  if (l.byteBurst < l.maxFrameBytes) {
    issue(['byteBurst'], `must be at least {limits.maxFrameBytes} (${l.maxFrameBytes}), got ${l.byteBurst}: a frame that size could never pass`);
  }
  if (l.maxBufferedHardBytes !== undefined && l.maxBufferedHardBytes < l.maxBufferedBytes) {
    issue(['maxBufferedHardBytes'], `must be at least {limits.maxBufferedBytes} (${l.maxBufferedBytes}), got ${l.maxBufferedHardBytes}`);
  }
  if (c.webhook.urls?.length && c.webhook.secret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['webhook', 'secret'], message: 'is required with {webhook.urls}: the receiver verifies each POST with it' });
  }
}).transform((c) => ({
  ...c,
  limits: {
    ...c.limits,
    // The server's own rule: the hard bound follows a configured soft bound.
    maxBufferedHardBytes: c.limits.maxBufferedHardBytes ?? 4 * c.limits.maxBufferedBytes,
    maxConnections: c.limits.maxConnections === 'unlimited' || c.limits.maxConnections === 0 ? Infinity : c.limits.maxConnections,
  } satisfies Limits,
}));

/** The effective configuration. */
export type Config = z.output<typeof ConfigSchema>;
/** A config file's content (every key optional). */
export type ConfigInput = z.input<typeof ConfigShape>;

// Every top-level key is an option of createSignalServer, or one the CLI itself handles.
type CliOnly = 'port' | 'host' | 'redis' | 'logLevel' | 'logFormat';
const _namesMatch: Exclude<keyof typeof topShape, keyof SignalServerOptions | CliOnly> extends never ? true : never = true;
void _namesMatch;
