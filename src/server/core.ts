/**
 * `SignalCore`: the server logic without a transport (runs in Node and in a browser page). This file is its front:
 * options, admission caps, connections coming and going, reading frames (size, rate limits, parse) and dispatching
 * each call to the part that owns it, token expiry and refresh, shutdown. The parts, one file each:
 * - `routing.ts`: the endpoint index, direct messages, `replaces`;
 * - `channels.ts`: join, leave, publish, fan-out (with `authorize.ts`, `roster-replay.ts`, `local-channel.ts`);
 * - `roster-sync.ts`: rosters kept in step with the broker (with the pure `reconcile.ts`);
 * - `call-queue.ts`: calls waiting behind an unfinished one; `expiries.ts`: token expiries; `token-refresh.ts`:
 *   `signal.refresh`; `core-options.ts`: the options and stats;
 * - `server-api.ts`: the server API (`core.api`: send, publish, presence, channels, disconnect, unsubscribe).
 * Watching it (issue 13): `observer.ts` hooks (connections, refusals, closes, slow consumers, broker status, sampled
 * fan-outs) and plain counters bumped per frame, read by the Node server's logs and metrics; `closeSession` serves
 * a drain (drain.ts).
 */
import { CLOSE, DEFAULT_LIMITS, ERROR, METHOD, type Limits } from '../protocol/constants.js';
import { parseClientFrame, type ClientCall, type FrameError } from '../protocol/frames.js';
import type { Refusal } from './admission.js';
import type { VerifiedToken } from './auth.js';
import type { Authorize } from './authorize.js';
import { MemoryBroker, type Broker, type BrokerHandlers, type BrokerLink } from './broker.js';
import { inKind, KIND_BINARY, KIND_INVALID, KIND_PING, type CoreObserver, type Counters } from './observer.js';
import { CallQueue } from './call-queue.js';
import { Channels } from './channels.js';
import type { CoreContext } from './core-context.js';
import { Expiries } from './expiries.js';
import { refreshToken } from './token-refresh.js';
import type { CoreOptions, CoreStats } from './core-options.js';
import { randomId } from './ids.js';
import type { LocalChannels } from './local-channel.js';
import { idOf } from './reply-ids.js';
import { RosterSync } from './roster-sync.js';
import { DirectRoutes } from './routing.js';
import { CoreServerApi } from './server-api.js';
import type { ServerApi } from './server-api-types.js';
import { flat, Session, type Transport } from './session.js';

export type { Authorize } from './authorize.js';

export type { CoreOptions, CoreStats } from './core-options.js';

/**
 * The server logic without a transport: routing, channels, presence, limits.
 * Runs in Node and in a browser page.
 */
export class SignalCore {
  readonly nodeId = randomId(6);
  readonly limits: Limits;
  private readonly now: () => number;
  private readonly authorize: Authorize | undefined;
  private readonly verifyToken: ((jwt: string) => Promise<VerifiedToken>) | undefined;
  private readonly ctx: CoreContext;
  private readonly routes: DirectRoutes;
  private readonly channels: Channels;
  private readonly sync: RosterSync;
  private readonly calls: CallQueue;
  private readonly expiries: Expiries<Session>;
  private readonly serverApi: CoreServerApi;
  private routeSeq = 0;
  private shuttingDown = false;
  private readonly observer: CoreObserver | null;
  private readonly counters: Counters | null;
  /** Frames seen, for sampling one publish in 16 for the fan-out histograms. */
  private sampleSeq = 0;
  /** The broker link is up (a broker that never reports its status is up once attached). */
  private brokerUp = false;

  constructor(opts: CoreOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    // The hard bound follows a configured soft bound unless it is set too.
    if (opts.limits?.maxBufferedHardBytes === undefined && opts.limits?.maxBufferedBytes !== undefined) {
      this.limits.maxBufferedHardBytes = 4 * opts.limits.maxBufferedBytes;
    }
    this.now = opts.now ?? Date.now;
    this.authorize = opts.authorize;
    this.verifyToken = opts.verifyToken;
    this.observer = opts.observer ?? null;
    this.counters = opts.counters ?? null;
    // The parts exist before the broker is attached, so its handlers reach them whenever it calls; `linkP` is set
    // next, before any part can read it.
    const ctx = (this.ctx = { limits: this.limits, link: null, ...(opts.membership ? { hooks: opts.membership } : {}) } as { -readonly [K in keyof CoreContext]: CoreContext[K] });
    const open: LocalChannels = new Map();
    this.routes = new DirectRoutes(ctx, (s, code, reason) => this.evict(s, code, reason));
    this.sync = new RosterSync(ctx, open);
    this.channels = new Channels(ctx, open, this.sync, this.routes, this.authorize);
    this.calls = new CallQueue(this.limits, (s, call) => this.dispatch(s, call));
    this.expiries = new Expiries<Session>(this.now, (s) => this.evict(s, CLOSE.UNAUTHORIZED, 'token expired'));
    this.serverApi = new CoreServerApi({ ctx, open, routes: this.routes, channels: this.channels, evict: (s, code, reason) => this.evict(s, code, reason), stopping: () => this.shuttingDown });
    ctx.linkP = this.attach(opts.broker ?? new MemoryBroker());
  }

  /** Attach this node to the broker: its messages and reports go to the part that owns them. */
  private attach(broker: Broker): Promise<BrokerLink> {
    const handlers: BrokerHandlers = {
      message: (_topic, msg) => {
        try {
          if (msg.t === 'dm') this.routes.onDirect(msg);
          else if (msg.t === 'replace') this.routes.onReplace(msg);
          else if (msg.t === 'kick' || msg.t === 'unsub') this.serverApi.onMessage(msg);
          else this.sync.onMessage(msg);
        } catch {
          // A malformed broker message must not take the node down.
        }
      },
      membersLost: (channel, addresses) => this.sync.onMembersLost(channel, addresses),
      resync: (channels) => void this.resync(channels),
      status: (up) => {
        if (up === this.brokerUp) return;
        this.brokerUp = up;
        this.observer?.broker?.(up);
      },
      roundTrip: (ms) => this.observer?.brokerRoundTrip?.(ms),
      channelCounts: () => this.serverApi.localCounts(),
    };
    return Promise.resolve(broker.attach(this.nodeId, handlers)).then((link) => {
      this.ctx.link = link;
      handlers.status!(link.connected?.() ?? true);
      return link;
    });
  }

  /** The server API across every node (see {@link ServerApi}); the Node and in-page servers expose it too. */
  get api(): ServerApi {
    return this.serverApi;
  }

  /** Resolves when the broker is attached. */
  ready(): Promise<void> {
    return this.ctx.linkP.then(() => undefined);
  }

  stats(): CoreStats {
    return { nodeId: this.nodeId, connections: this.routes.size, channels: this.channels.size };
  }

  /** Whether the broker link is up now (Redis reachable); `false` before it is attached. */
  brokerReady(): boolean {
    return this.ctx.link !== null && (this.ctx.link.connected?.() ?? true);
  }

  /** Presence members in the rosters of the channels held here (each counted once per channel), for metrics. */
  presenceMembers(): number {
    return this.channels.rosterTotal();
  }

  /** Local sessions (a copy), e.g. to close them one by one in a drain. */
  sessions(): Session[] {
    return this.routes.sessions();
  }

  /**
   * May a new connection of `identity` be accepted? `null` when yes; else the close code and reason (this process
   * holds `maxConnections` connections, or this identity `maxConnectionsPerIdentity`).
   */
  admit(identity: string): Refusal | null {
    if (this.shuttingDown) return { code: CLOSE.GOING_AWAY, reason: 'server shutting down' };
    if (this.routes.size >= this.limits.maxConnections) {
      return { code: CLOSE.TRY_AGAIN_LATER, reason: `server full: ${this.limits.maxConnections} connections` };
    }
    if (this.routes.count(identity) >= this.limits.maxConnectionsPerIdentity) {
      return { code: CLOSE.TOO_MANY_CONNECTIONS, reason: `too many connections: ${this.limits.maxConnectionsPerIdentity} for this identity` };
    }
    return null;
  }

  /**
   * Register an authenticated connection; returns its session. Call {@link admit} first. A token with an `exp`
   * claim closes the connection with 4401 `token expired` at that time, unless a `signal.refresh` handed in a newer
   * token first. `replaces`: the address of this client's previous
   * connection (the client sends it when it reconnects), which this or another node may still hold open (a
   * half-open socket after a network change, or a dead node until its TTL). An endpoint of the same identity and
   * device is closed at once, so its presence leaves now instead of after the dead-peer timeout; every other
   * address is ignored.
   */
  connect(transport: Transport, identity: string, device: string, claims: Record<string, unknown> = {}, replaces?: string | null): Session {
    const route = `${this.nodeId}${(this.routeSeq++).toString(36)}`;
    // Claims are read only by `authorize`: without it, none are kept per connection.
    const s = new Session(transport, flat(identity), flat(device), route, this.authorize ? claims : NO_CLAIMS, this.limits.frameBurst, this.now());
    if (this.observer !== null) {
      s.obs = this.observer;
      this.observer.connected?.(s);
    }
    this.expiries.set(s, claims.exp);
    this.routes.add(s, replaces);
    return s;
  }

  /** Feed one text frame received on `s`. Never throws. */
  receive(s: Session, text: string): void {
    if (s.closed) return;
    const counters = this.counters;
    // One frame in 16 is timed (receipt to the last socket write of its fan-out, when it is a publish).
    const t0 = counters !== null && (++this.sampleSeq & 15) === 0 ? performance.now() : 0;
    if (text.length > this.limits.maxFrameBytes) {
      s.close(CLOSE.TOO_LARGE, 'frame too large');
      return;
    }
    // Every frame counts toward the rate limits, `_ping` included (a ping flood is a flood).
    const verdict = s.take(this.limits, text.length, this.now());
    if (verdict === 'flood') return s.close(CLOSE.FLOOD, 'flood');
    const parsed = parseClientFrame(text, this.limits);
    if (parsed.kind === 'ping') {
      if (counters !== null) counters.framesIn[KIND_PING]!++;
      return s.pong();
    }
    if (parsed.kind === 'error') {
      if (counters !== null) counters.framesIn[KIND_INVALID]!++;
      return this.refuse(s, parsed.error);
    }
    const { call } = parsed;
    if (counters !== null) counters.framesIn[inKind(call.method)]!++;
    if (verdict !== 'ok') {
      const message = verdict === 'bytes' ? `rate limited: over ${this.limits.bytesPerSecond} bytes/s; slow down` : 'rate limited: slow down';
      return this.refuse(s, { code: ERROR.RATE_LIMITED, message, method: call.method, ...idOf(call) });
    }
    if (this.shuttingDown) {
      return this.refuse(s, { code: ERROR.SHUTTING_DOWN, message: 'server is shutting down', method: call.method, ...idOf(call) });
    }
    this.calls.submit(s, call, text.length);
    if (t0 !== 0 && call.method === METHOD.publish && this.observer?.fanOut) {
      this.observer.fanOut(this.channels.localMembers(call.params.id) - 1, performance.now() - t0);
    }
  }

  /**
   * A binary frame of `bytes` bytes: refused, never closes by itself, but it counts against the rate limits like
   * any frame (a flood of binary frames is closed with 4429, like every other flood).
   */
  receiveBinary(s: Session, bytes = 0): void {
    if (s.closed) return;
    if (this.counters !== null) this.counters.framesIn[KIND_BINARY]!++;
    const verdict = s.take(this.limits, bytes, this.now());
    if (verdict === 'flood') return s.close(CLOSE.FLOOD, 'flood');
    if (verdict !== 'ok') return; // over the limit: dropped without a reply (a reply would feed the flood)
    this.refuse(s, { code: ERROR.INVALID_REQUEST, message: 'binary frames are not supported; send JSON text' });
  }

  /** The transport closed: leave every channel (presence leaves at once). */
  disconnect(s: Session): void {
    s.closed = true;
    this.calls.drop(s); // calls waiting behind a hung one are dropped at once
    if (!this.routes.unroute(s)) return;
    this.expiries.set(s, undefined);
    for (const name of s.channelNames()) this.channels.leave(s, name);
    this.routes.unindex(s);
  }

  /** Stop: refuse new calls, close every session with `code`, detach from the broker. */
  async shutdown(code: number = CLOSE.GOING_AWAY, reason = 'server shutting down'): Promise<void> {
    this.shuttingDown = true;
    this.expiries.stop();
    for (const s of this.routes.sessions()) this.evict(s, code, reason);
    const link = await this.ctx.linkP;
    await link.close();
  }

  /**
   * Close `s` with `code` after leaving its channels (presence leaves now, here and on the other nodes): a drain
   * closes each connection this way with 1012 so its client reconnects, with `replaces`, to another process.
   */
  closeSession(s: Session, code: number, reason: string): void {
    this.evict(s, code, reason);
  }

  /** Run one accepted call (a join or a refresh may be async; the others finish at once). */
  private dispatch(s: Session, call: ClientCall): void | Promise<void> {
    switch (call.method) {
      case METHOD.send:
        return this.routes.send(s, call.params, call.id);
      case METHOD.publish:
        return this.channels.publish(s, call.params, call.id);
      case METHOD.join:
        return this.channels.join(s, call.params, call.id);
      case METHOD.leave:
        return this.channels.leaveCall(s, call.params.id, call.id);
      case METHOD.refresh:
        return refreshToken(s, call.params, call.id, this.verifyToken, this.authorize !== undefined, this.expiries, this.limits);
    }
  }

  /** After a broker outage (no `channels`) or when another node rewrote those rosters: see `RosterSync.resync`. */
  private async resync(channels?: string[]): Promise<void> {
    const link = await this.ctx.linkP;
    await this.sync.resync(link, channels);
    if (!channels) this.routes.resubscribe(link);
  }

  /** Close `s` with `code` after leaving its channels (presence leaves now): replaced, expired, shutdown. */
  private evict(s: Session, code: number, reason: string): void {
    if (code === CLOSE.REPLACED) this.ctx.hooks?.replaced(s);
    this.disconnect(s);
    s.closed = false;
    s.close(code, reason);
  }

  private refuse(s: Session, err: FrameError): void {
    s.refuse(err, this.limits);
  }
}

const NO_CLAIMS: Record<string, unknown> = Object.freeze({});
