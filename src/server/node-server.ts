import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendJson } from './http-body.js';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CLOSE } from '../protocol/constants.js';
import { authenticate, closeReason, isRefusal, parseConnectUrl } from './admission.js';
import { createVerifier } from './auth.js';
import { hmacCheck } from './hmac-check.js';
import { SignalCore } from './core.js';
import type { Session } from './session.js';
import { devTokenRoute } from './dev-token-route.js';
import { createHttpApi } from './http-api.js';
import { bindApi } from './server-api-types.js';
import { closeWithin, sendPing, wsTransport } from './ws-transport.js';
import { Heartbeat } from './heartbeat.js';
import { DEFAULT_DRAIN_MS, drainConnections } from './drain.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ServerObserver } from './observe.js';
import { opsRoutes } from './ops-routes.js';
import { Webhooks } from './webhooks/index.js';
import type { SignalServer, SignalServerOptions } from './node-server-types.js';

export type { SignalServer, SignalServerOptions, SignalServerStats } from './node-server-types.js';

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function ignore(): void {}

/** Milliseconds since this module loaded: a small integer (a Smi, not a boxed double) for per-socket times. */
const T0 = Date.now();
const clock = (): number => Date.now() - T0;

/**
 * Our `ws` socket class: the session and the heartbeat times live in its own fields, so no listener, closure or
 * side table is kept per connection (each server subclasses it to handle its sockets' events in `emit`).
 */
class SignalSocket extends WebSocket {
  /** `null` until accepted (and for refused sockets). */
  session: Session | null = null;
  /** Last sign of life ({@link clock}). */
  seen = 0;
  /** Last ping sent ({@link clock}; 0: never). */
  pinged = 0;
  /** Place in the heartbeat's wheel (heartbeat.ts); -1: not in it. */
  hbBucket = -1;
  hbSlot = -1;
}


/** Room in an HTTP API body beyond the frame limit, for `to`/`channel` and the JSON around the payload. */
const API_ENVELOPE_BYTES = 8192;

/** Create a signal server on `ws` + `node:http`. */
export function createSignalServer(options: SignalServerOptions): SignalServer {
  const verify = createVerifier(options, hmacCheck);
  const webhooks = options.webhook ? new Webhooks(options.webhook, options.broker) : null;
  /** Every open socket (accepted or being refused); tracked here rather than by `ws`, which adds a closure per socket. */
  const sockets = new Set<SignalSocket>();
  // The core is made below; the metrics read it only at scrape time.
  let metrics: Metrics | null = null;
  const obs = new ServerObserver(options.logger ?? null, null);
  const { logger: _l, metrics: metricsOn = true, ...coreOptions } = options;
  const core: SignalCore = new SignalCore({
    ...coreOptions,
    verifyToken: verify,
    // No logger and no metrics: no observer, nothing counted.
    ...(options.logger || metricsOn ? { observer: obs } : {}),
    counters: metricsOn ? (metrics = createMetrics(() => core, () => sockets.size, () => webhooks?.stats() ?? [])).counters : null,
    ...(webhooks ? { membership: webhooks.hooks } : {}),
  });
  const webhooksStarted = webhooks?.start(core.nodeId);
  webhooksStarted?.catch(() => {}); // awaited (and thrown) by listen()
  obs.setMetrics(metrics);
  const counters = metrics?.counters ?? null;
  const limits = core.limits;
  const allowedOrigins = options.allowedOrigins ? new Set(options.allowedOrigins) : null;
  let draining = false;
  let started = false;
  void core.ready().then(() => (started = true));
  for (const k of options.apiKeys ?? []) {
    if (typeof k !== 'string' || !/^\S{16,}$/.test(k)) throw new TypeError('each of apiKeys must be a string of at least 16 characters without spaces');
  }
  const httpApi = createHttpApi({ apiKeys: options.apiKeys ?? [], api: core.api, maxBodyBytes: limits.maxFrameBytes + API_ENVELOPE_BYTES });

  /**
   * An accepted socket's events go straight to the core from `emit`: no listeners (each socket's listener table
   * would grow per event), and one class per server instead of closures per socket.
   */
  class ServerSocket extends SignalSocket {
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const s = this.session;
      if (s !== null) {
        if (event === 'message') {
          this.seen = clock();
          if (counters !== null) counters.bytesIn += rawLength(args[0] as RawData);
          if (args[1] === true) core.receiveBinary(s, rawLength(args[0] as RawData));
          else core.receive(s, (args[0] as RawData).toString());
          return true;
        }
        if (event === 'pong') {
          this.seen = clock();
          return true;
        }
        if (event === 'error') return true; // followed by 'close'
      }
      if (event === 'close') {
        sockets.delete(this);
        heartbeat.remove(this);
        if (s !== null) {
          core.disconnect(s);
          obs.disconnected(s, args[0] as number);
        }
      }
      return super.emit(event, ...args);
    }
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: ServerSocket,
  });
  const attached: Server[] = [];
  let own: Server | null = null;
  let publicUrl = options.publicUrl;
  let closing = false;

  // Any frame is a sign of life; only the silent are pinged, one bucket of sockets per tick (heartbeat.ts).
  const heartbeat = new Heartbeat<SignalSocket>(limits, {
    ping: sendPing,
    terminate: (ws) => ws.terminate(),
    check: (ws, wall) => ws.session !== null && ws.session.checkBehind(limits, wall),
  }, clock);

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // An error listener from the very first line: a reset while we answer (or before) must never be unhandled.
    socket.on('error', destroyOnError); // not a closure: it would keep req and url alive as long as the socket
    const target = parseConnectUrl(req.url);
    if ('status' in target) {
      socket.end(target.status === 404 ? 'HTTP/1.1 404 Not Found\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const origin = req.headers.origin;
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.has(origin)) {
      obs.turnedAway({ status: 403, reason: 'origin not allowed', origin: origin.slice(0, 200) });
      return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    }
    if (closing || draining) {
      obs.turnedAway({ status: 503, reason: closing ? 'server shutting down' : 'draining' });
      return void socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    }
    void authenticate(verify, target.jwt).then((tok) => {
      if (socket.destroyed) return; // reset while the token was checked
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', destroyOnError); // `ws` handles socket errors from here on
        sockets.add(ws as SignalSocket);
        if (isRefusal(tok)) return refuse(ws as SignalSocket, tok.code, tok.reason);
        const refused = core.admit(tok.identity);
        if (refused) return refuse(ws as SignalSocket, refused.code, refused.reason, tok.identity, tok.device);
        accept(ws as SignalSocket, tok.identity, tok.device, tok.claims as Record<string, unknown>, target.replaces);
      });
    });
  };

  /** Close a socket we do not accept; one that never answers the close is dropped after `closeTimeoutMs`. */
  const refuse = (ws: SignalSocket, code: number, reason: string, identity?: string, device?: string): void => {
    obs.turnedAway({ code, reason, ...(identity === undefined ? {} : { identity, device }) });
    ws.on('error', ignore);
    closeWithin(ws, code, closeReason(reason), limits.closeTimeoutMs);
  };

  const accept = (ws: SignalSocket, identity: string, device: string, claims: Record<string, unknown>, replaces: string | null): void => {
    if (closing || draining) return refuse(ws, closing ? CLOSE.GOING_AWAY : CLOSE.SERVICE_RESTART, closing ? 'server shutting down' : 'service restart: reconnect');
    ws.session = core.connect(wsTransport(ws, limits.closeTimeoutMs, counters), identity, device, claims, replaces);
    ws.seen = clock();
    heartbeat.add(ws);
    // From here on, ServerSocket.emit hands 'message', 'pong', 'error' and 'close' to the core.
  };

  const devToken = options.devTokens
    ? devTokenRoute({
        ...(options.secret === undefined ? {} : { secret: options.secret }),
        corsOrigins: options.corsOrigins ?? ['*'],
        audience: (req) => options.publicUrl ?? hostUrl(req.headers.host) ?? publicUrl ?? 'http://127.0.0.1',
      })
    : null;
  const ops = opsRoutes(core, metrics, { started: () => started, stopping: () => (closing ? 'closing' : draining ? 'draining' : null) });

  const handleRequest = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = parseUrl(req.url)?.pathname;
    if (path === undefined) {
      sendJson(res, 400, { error: 'bad request URL' });
      return true;
    }
    if (ops(req, res, path)) return true;
    if (httpApi(req, res)) return true;
    if (devToken !== null && devToken(req, res, path)) return true;
    return false;
  };

  const attach = (server: Server): void => {
    server.on('upgrade', onUpgrade);
    attached.push(server);
  };

  return {
    ...bindApi(core.api),
    core,
    attach,
    handleRequest,
    async listen(port = 7070, host = '127.0.0.1') {
      if (own) throw new Error('already listening');
      own = createServer((req, res) => {
        if (!handleRequest(req, res)) sendJson(res, 404, { error: 'not found' });
      });
      // A request's headers within 10 s and the whole request within 30 s (slowloris); keep-alive idles 5 s.
      own.headersTimeout = 10_000;
      own.requestTimeout = 30_000;
      own.keepAliveTimeout = 5_000;
      own.on('clientError', (_e, sock: Duplex) => {
        if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
        sock.destroy();
      });
      attach(own);
      const srv = own;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      await core.ready();
      await webhooksStarted;
      const addr = srv.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      const h = host.includes(':') ? `[${host}]` : host;
      const url = `http://${h}:${actual}`;
      publicUrl ??= url;
      return { url, port: actual };
    },
    async drain(opts = {}) {
      if (closing || draining) return { closed: 0, ms: 0 };
      draining = true;
      const ms = opts.ms ?? options.drainMs ?? DEFAULT_DRAIN_MS;
      obs.note('info', 'drain.start', { connections: core.stats().connections, drainMs: ms }, 'drain started');
      const result = await drainConnections(core, ms, () => closing);
      obs.note('info', 'drain.end', result, 'drain ended');
      return result;
    },
    metrics: () => metrics?.scrape() ?? null,
    async close() {
      if (closing) return;
      closing = true;
      heartbeat.stop();
      for (const s of attached) s.off('upgrade', onUpgrade);
      const closed = own ? new Promise<void>((r) => own!.close(() => r())) : Promise.resolve();
      await core.shutdown(CLOSE.GOING_AWAY, 'server shutting down');
      await webhooks?.close(); // members' leaves reported, queued events delivered (bounded)
      // Give close handshakes a moment, then drop whatever is left.
      const deadline = Date.now() + 1000;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of sockets) ws.terminate();
      own?.closeAllConnections();
      await closed;
      wss.close();
    },
    stats() {
      return { ...core.stats(), sockets: sockets.size };
    },
    webhookStats: () => webhooks?.stats() ?? [],
  };
}

/** `http://host[:port]` from a Host header, when it is a plain host (no path, no spaces). */
function hostUrl(host: string | undefined): string | undefined {
  if (!host || !/^[\w.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(host)) return undefined;
  return `http://${host}`;
}

/** Bytes of a binary message as `ws` hands it over (a Buffer, an ArrayBuffer, or fragments). */
function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/** The request URL, or `null` when it cannot be parsed (a bad request line must never throw in a handler). */
function parseUrl(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}
