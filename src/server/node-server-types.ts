/**
 * The public types of the Node server (`createSignalServer`'s options, the running server, its stats), apart from
 * node-server.ts, which wires the transport, the core, the HTTP routes and the operations together.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AuthOptions } from './auth.js';
import type { CoreOptions, CoreStats, SignalCore } from './core.js';
import type { DrainResult } from './drain.js';
import type { Logger } from './log.js';
import type { ServerApi } from './server-api-types.js';
import type { EndpointStats, WebhookOptions } from './webhooks/index.js';

/** Options of {@link createSignalServer}. */
export interface SignalServerOptions extends AuthOptions, Omit<CoreOptions, 'now' | 'observer' | 'counters'> {
  /**
   * Base URL clients reach this server at (put in dev tokens' `aud`).
   * @default `http://` + the `Host` header of the token request (so a server on 0.0.0.0 hands out a reachable URL),
   * else `http://HOST:PORT` after listen
   */
  publicUrl?: string;
  /** Serve `POST /token` (development only; never on unless asked). @default false */
  devTokens?: boolean;
  /** Origins a browser may call `POST /token` from (`Access-Control-Allow-Origin`); `'*'` for any. @default ['*'] */
  corsOrigins?: string[];
  /**
   * `Origin` headers a WebSocket upgrade may carry; an upgrade with another one is refused with 403 before any
   * WebSocket. An upgrade without `Origin` (not from a browser: servers, native apps) is allowed.
   * @default any origin
   */
  allowedOrigins?: string[];
  /** A pino-compatible logger for connections, refusals, floods, broker status, drain (log.ts). @default no logs */
  logger?: Logger;
  /** Count for `GET /metrics` (Prometheus text; metrics.ts) and serve it. @default true */
  metrics?: boolean;
  /** {@link SignalServer.drain}'s default window, in milliseconds. @default 5000 */
  drainMs?: number;
  /**
   * Keys of the HTTP server API under `/api/v1/` (`Authorization: Bearer <key>`; README "Server API").
   * @default none: the HTTP API answers 404 (the Node API on the returned object works regardless)
   */
  apiKeys?: readonly string[];
  /** POST membership events to your backend, signed (README "Webhooks"). @default none */
  webhook?: WebhookOptions;
}

/** Stats of a running server. */
export interface SignalServerStats extends CoreStats {
  /** Sockets open at the transport level. */
  sockets: number;
}

/** A running signal server; also the server API ({@link ServerApi}: send, publish, presence, …). */
export interface SignalServer extends ServerApi {
  /** Listen on `port` (0 picks a free one). @default port 7070, host '127.0.0.1' */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Serve WebSocket upgrades on an existing HTTP server (mount `handleRequest` yourself). */
  attach(server: Server): void;
  /** Answer `GET /healthz`, the HTTP server API (`/api/v1/`, with `apiKeys`) and (with `devTokens`) `POST /token`; `false` when the path is not ours. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Stop accepting, close every socket with 1001 (presence leaves), detach from the broker. */
  close(): Promise<void>;
  /**
   * Drain before a restart: `/readyz` answers 503 and new upgrades are refused (503) at once, then every connection
   * is closed with 1012 (service restart), spread over `ms` (default `drainMs`); our client reconnects within about
   * a second, to another process. Call {@link close} afterwards. Resolves with what it did.
   */
  drain(opts?: { ms?: number }): Promise<DrainResult>;
  /** Prometheus text of this server's metrics (what `GET /metrics` serves); `null` when metrics are off. */
  metrics(): Promise<string> | null;
  stats(): SignalServerStats;
  /** The transport-free core (for embedding and tests). */
  readonly core: SignalCore;
  /** Webhook delivery counters per URL (`[]` without `webhook`). */
  webhookStats(): EndpointStats[];
}
