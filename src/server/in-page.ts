import { CLOSE } from '../protocol/constants.js';
import { authenticate, isRefusal, parseConnectUrl, type Refusal } from './admission.js';
import { createVerifier, signAccessToken } from './auth.js';
import { randomId } from './ids.js';
import { SignalCore, type CoreOptions } from './core.js';
import type { OutFrame, Transport } from './session.js';
import type { Session } from './session.js';
import { bindApi, type ServerApi } from './server-api-types.js';

/** The WebSocket-like class the client accepts as `options.WebSocket` (structurally `WebSocketLike`). */
export interface InPageSocket {
  readonly url: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  /** Also given `wasClean` (as a browser's CloseEvent). */
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Options of {@link createInPageServer}. */
export interface InPageServerOptions extends Omit<CoreOptions, 'now'> {
  /** HS256 secret tokens are signed and verified with. @default a random secret */
  secret?: string;
  /** Base URL put in tokens' `aud`; the client derives its socket URL from it. @default 'http://in-page.signal' */
  audience?: string;
  /** Delay of each delivery, in ms, to feel like a network. @default 0 (next macrotask) */
  latency?: number;
  /** An existing core to serve (e.g. one sharing a broker with others). @default a new SignalCore */
  core?: SignalCore;
}

/** A signal server inside the page: the real core, reached through fake WebSockets; also the server API. */
export interface InPageServer extends ServerApi {
  /** Pass as `new Signal(token, { WebSocket })`. */
  readonly WebSocket: new (url: string) => InPageSocket;
  /** The transport-free core behind it. */
  readonly core: SignalCore;
  /** The audience (base URL) of its tokens. */
  readonly url: string;
  /** Mint a token for `identity` (a random device when absent). */
  token(identity: string, device?: string, opts?: { expiresIn?: number; claims?: Record<string, unknown> }): Promise<string>;
  /**
   * Cut the connections of an identity (`alice`), a device (`alice/web`) or one endpoint, like a network
   * cut: the client sees close code 1006 and reconnects; the server notices at once (others see a leave).
   * Returns how many connections were dropped.
   */
  drop(address: string): number;
  /** While `false`, connections of that identity fail as if the network were down (and open ones drop). */
  setOnline(identity: string, online: boolean): void;
  /** Open connections (optionally of one identity). */
  connections(identity?: string): number;
  /** Close every connection (1001) and detach the core. */
  close(): Promise<void>;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const ABNORMAL = 1006;

/** Ordered asynchronous delivery, one direction of a pipe: tasks run in a later macrotask, in order. */
class Pipe {
  private tasks: (() => void)[] = [];
  private scheduled = false;
  bytes = 0;
  constructor(private readonly latency: number) {}

  push(task: () => void, bytes = 0): void {
    this.bytes += bytes;
    this.tasks.push(() => {
      this.bytes -= bytes;
      task();
    });
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), this.latency);
    }
  }

  clear(): void {
    this.tasks = [];
    this.bytes = 0;
  }

  private flush(): void {
    this.scheduled = false;
    const tasks = this.tasks;
    this.tasks = [];
    for (const t of tasks) {
      try {
        t();
      } catch {
        // A throwing handler must not stop delivery to others (a real socket would not either).
      }
    }
  }
}

/**
 * Start a signal server inside this page (or process): the same `SignalCore` as the Node server, with
 * tokens verified by the same `jose` verifier (WebCrypto), reached through an in-page WebSocket-like
 * pair with asynchronous delivery. Lets demos and static Storybook builds run with no server.
 */
export function createInPageServer(options: InPageServerOptions = {}): InPageServer {
  const secret = options.secret ?? `in-page-${randomId(24)}`;
  const audience = (options.audience ?? 'http://in-page.signal').replace(/\/+$/, '');
  const latency = options.latency ?? 0;
  const verify = createVerifier({ secret });
  const core = options.core ?? new SignalCore({ ...options, verifyToken: verify });
  const live = new Set<Link>();
  const offline = new Set<string>();
  let closed = false;

  /** Both ends of one connection. */
  class Link {
    session: Session | null = null;
    identity = '';
    readonly toClient = new Pipe(latency);
    readonly toServer = new Pipe(latency);
    constructor(readonly socket: Socket) {}

    /** Close both ends: the client sees `code` after frames already on the way (unless `cut`). */
    end(code: number, reason: string, cut: boolean): void {
      if (this.socket._state === CLOSED || this.socket._state === CLOSING) return;
      live.delete(this);
      const s = this.session;
      this.session = null;
      this.toServer.clear();
      if (cut) this.toClient.clear();
      this.socket._state = CLOSING;
      if (s) this.toServer.push(() => core.disconnect(s));
      this.toClient.push(() => this.socket._closed(code, reason));
    }
  }

  class Socket implements InPageSocket {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    onopen: InPageSocket['onopen'] = null;
    onmessage: InPageSocket['onmessage'] = null;
    onclose: InPageSocket['onclose'] = null;
    onerror: InPageSocket['onerror'] = null;
    _state = CONNECTING;
    private readonly link = new Link(this);

    constructor(readonly url: string) {
      const link = this.link;
      try {
        new URL(url); // as a browser does: a URL that cannot be parsed throws
      } catch {
        throw new SyntaxError(`invalid URL: ${url}`);
      }
      const target = parseConnectUrl(url);
      live.add(link);
      if (closed || 'status' in target) {
        link.toClient.push(() => this.fail()); // a browser sees a refused upgrade as a failed connection
        return;
      }
      /** As the Node server does: accept the upgrade, then close with the code and reason. */
      const refuse = (r: Refusal): void => {
        this._state = OPEN;
        this.onopen?.({ type: 'open' });
        link.end(r.code, r.reason, false);
      };
      void authenticate(verify, target.jwt).then((tok) => {
        if (this._state !== CONNECTING) return;
        if (isRefusal(tok)) return refuse(tok);
        if (closed || offline.has(tok.identity)) return this.fail();
        const refused = core.admit(tok.identity);
        if (refused) return refuse(refused);
        const transport: Transport = {
          send: (frame: OutFrame) => {
            if (this._state !== OPEN) return;
            link.toClient.push(() => {
              if (this._state === OPEN) this.onmessage?.({ data: frame.text });
            }, frame.text.length);
          },
          close: (code, reason) => link.end(code, reason, false),
          terminate: () => link.end(ABNORMAL, '', true),
          bufferedAmount: () => link.toClient.bytes,
        };
        link.identity = tok.identity;
        link.session = core.connect(transport, tok.identity, tok.device, tok.claims as Record<string, unknown>, target.replaces);
        this._state = OPEN;
        this.onopen?.({ type: 'open' });
      });
    }

    get readyState(): number {
      return this._state;
    }
    get bufferedAmount(): number {
      return this.link.toServer.bytes;
    }

    send(data: string): void {
      if (this._state === CONNECTING) throw new Error('InvalidStateError: still connecting');
      if (this._state !== OPEN) return;
      const text = String(data);
      const link = this.link;
      link.toServer.push(() => {
        if (link.session) core.receive(link.session, text);
      }, text.length);
    }

    close(code: number = 1000, reason = ''): void {
      if (this._state === CLOSING || this._state === CLOSED) return;
      if (this._state === CONNECTING) {
        live.delete(this.link);
        this._state = CLOSING;
        this.link.toClient.push(() => this._closed(ABNORMAL, ''));
        return;
      }
      this.link.end(code, reason, false);
    }

    /** Connecting failed (network down): error then close 1006, as a browser reports it. */
    private fail(): void {
      if (this._state === CLOSED) return;
      live.delete(this.link);
      this.onerror?.({ type: 'error' });
      this._closed(ABNORMAL, '');
    }

    _closed(code: number, reason: string): void {
      if (this._state === CLOSED) return;
      this._state = CLOSED;
      const ev = { code, reason, wasClean: code !== ABNORMAL };
      this.onclose?.(ev);
    }
  }

  const matches = (link: Link, address: string): boolean => {
    const s = link.session;
    if (!s) return false;
    const [identity, device, route] = address.split('/');
    return s.identity === identity && (device === undefined || s.device === device) && (route === undefined || s.route === route);
  };

  const drop = (address: string): number => {
    let n = 0;
    for (const link of [...live]) {
      if (!matches(link, address)) continue;
      link.end(ABNORMAL, '', true);
      n++;
    }
    return n;
  };

  return {
    ...bindApi(core.api),
    WebSocket: Socket,
    core,
    url: audience,
    token: (identity, device, opts = {}) =>
      signAccessToken({ secret, identity, audience, ...(device === undefined ? {} : { device }), ...opts }),
    drop,
    setOnline(identity, online) {
      if (online) {
        offline.delete(identity);
        return;
      }
      offline.add(identity);
      drop(identity);
    },
    connections(identity) {
      let n = 0;
      for (const link of live) if (link.session && (identity === undefined || link.identity === identity)) n++;
      return n;
    },
    async close() {
      closed = true;
      for (const link of [...live]) link.end(CLOSE.GOING_AWAY, 'server shutting down', false);
      await core.shutdown();
    },
  };
}
