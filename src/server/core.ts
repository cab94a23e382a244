import { parseAddress, addressMatches, type Address } from '../protocol/address.js';
import { CLOSE, DEFAULT_LIMITS, ERROR, METHOD, type Limits } from '../protocol/constants.js';
import {
  encodeNotification,
  parseClientFrame,
  type ClientCall,
  type FrameError,
  type JoinParams,
  type PublishParams,
  type RefreshParams,
  type RpcId,
  type SendParams,
} from '../protocol/frames.js';
import { channelTopic, identityTopic, MemoryBroker, type Broker, type BrokerLink, type BrokerMessage } from './broker.js';
import type { Refusal } from './admission.js';
import { randomId, type VerifiedToken } from './auth.js';
import { flat, outFrame, Session, type OutFrame, type Transport } from './session.js';

/** Per-channel access check. */
export type Authorize = (claims: Record<string, unknown>, channel: string) => boolean | Promise<boolean>;

/** Options of the transport-free core. */
export interface CoreOptions {
  /** @default a new MemoryBroker */
  broker?: Broker;
  /** Overrides of {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  authorize?: Authorize;
  /**
   * Verify a token handed in on an open connection (`signal.refresh`, extension). The Node and in-page servers pass
   * their own verifier; without it a refresh is refused (-32601) and connections are closed at their token's `exp`.
   */
  verifyToken?: (jwt: string) => Promise<VerifiedToken>;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}


/** Counters returned by `stats()`. */
export interface CoreStats {
  nodeId: string;
  connections: number;
  channels: number;
}

interface LocalChannel {
  name: string;
  /** Local members (presence or not), by address. */
  members: Map<string, Session>;
  /** Every presence member on every node -> last state (`undefined`: none). */
  roster: Map<string, unknown>;
  /** Resolves once subscribed and the roster is loaded. */
  ready: Promise<void>;
}

/**
 * The server logic without a transport: routing, channels, presence, limits.
 * Runs in Node and in a browser page.
 */
export class SignalCore {
  readonly nodeId = randomId(6);
  readonly limits: Limits;
  private readonly sessions = new Map<string, Session>();
  /** identity -> its one session, or a Set once it has several endpoints (most have one). */
  private readonly byIdentity = new Map<string, Session | Set<Session>>();
  private readonly channels = new Map<string, LocalChannel>();
  private readonly now: () => number;
  private readonly authorize: Authorize | undefined;
  private readonly linkP: Promise<BrokerLink>;
  private link: BrokerLink | null = null;
  private routeSeq = 0;
  /** Roster reads in flight: channel -> sets of addresses that broker messages touched meanwhile. */
  private readonly rosterReads = new Map<string, Set<RosterRead>>();
  private shuttingDown = false;
  /** Sessions that replaced an earlier endpoint -> that endpoint's address (dropped from rosters on presence joins). */
  private readonly replacing = new Map<Session, string>();
  private readonly verifyToken: ((jwt: string) => Promise<VerifiedToken>) | undefined;
  /** Token expiries: whole second (ceil of `exp`) -> sessions whose token expires then. */
  private readonly expiries = new Map<number, Set<Session>>();
  /** Checks `expiries` once a second while any session has an `exp`. */
  private expiryTimer: ReturnType<typeof setInterval> | null = null;

  constructor(opts: CoreOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    // The hard bound follows a configured soft bound unless it is set too.
    if (opts.limits?.maxBufferedHardBytes === undefined && opts.limits?.maxBufferedBytes !== undefined) {
      this.limits.maxBufferedHardBytes = 4 * opts.limits.maxBufferedBytes;
    }
    this.now = opts.now ?? Date.now;
    this.authorize = opts.authorize;
    this.verifyToken = opts.verifyToken;
    const broker = opts.broker ?? new MemoryBroker();
    this.linkP = Promise.resolve(
      broker.attach(this.nodeId, {
        message: (topic, msg) => this.onBrokerMessage(topic, msg),
        membersLost: (channel, addresses) => this.onMembersLost(channel, addresses),
        resync: (channels) => void this.resync(channels),
      }),
    ).then((l) => (this.link = l));
  }

  /** Resolves when the broker is attached. */
  ready(): Promise<void> {
    return this.linkP.then(() => undefined);
  }

  stats(): CoreStats {
    return { nodeId: this.nodeId, connections: this.sessions.size, channels: this.channels.size };
  }

  /**
   * May a new connection of `identity` be accepted? `null` when yes; else the close code and reason (this process
   * holds `maxConnections` connections, or this identity `maxConnectionsPerIdentity`).
   */
  admit(identity: string): Refusal | null {
    if (this.shuttingDown) return { code: CLOSE.GOING_AWAY, reason: 'server shutting down' };
    if (this.sessions.size >= this.limits.maxConnections) {
      return { code: CLOSE.TRY_AGAIN_LATER, reason: `server full: ${this.limits.maxConnections} connections` };
    }
    const cur = this.byIdentity.get(identity);
    const n = cur === undefined ? 0 : cur instanceof Set ? cur.size : 1;
    if (n >= this.limits.maxConnectionsPerIdentity) {
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
    this.sessions.set(route, s);
    this.setExpiry(s, claims.exp);
    const cur = this.byIdentity.get(s.identity);
    if (cur === undefined) {
      this.byIdentity.set(s.identity, s);
      void this.link?.subscribe(identityTopic(s.identity));
    } else if (cur instanceof Set) cur.add(s);
    else this.byIdentity.set(s.identity, new Set([cur, s]));
    if (replaces) this.replace(s, replaces);
    return s;
  }

  /** See `connect`: close the endpoint `old` if it is this client's own earlier one, here or on another node. */
  private replace(s: Session, old: string): void {
    const a = parseAddress(old, this.limits.maxAddressLength);
    if (!a || a.route === undefined || a.identity !== s.identity || a.device !== s.device || old === s.address) return;
    this.replacing.set(s, old);
    const t = this.sessions.get(a.route);
    if (t) return this.closeReplaced(t, old);
    // Held elsewhere, or by a node that died: its node closes it; presence joins of `s` drop it from rosters.
    void this.link?.publish(identityTopic(s.identity), { t: 'replace', address: old });
  }

  private closeReplaced(t: Session, address: string): void {
    if (t.address !== address) return;
    this.disconnect(t); // presence leaves now
    t.closed = false;
    t.close(CLOSE.REPLACED, 'replaced by a newer connection of this device');
  }

  /** Feed one text frame received on `s`. Never throws. */
  receive(s: Session, text: string): void {
    if (s.closed) return;
    if (text.length > this.limits.maxFrameBytes) {
      s.close(CLOSE.TOO_LARGE, 'frame too large');
      return;
    }
    // Every frame counts toward the rate limits, `_ping` included (a ping flood is a flood).
    const verdict = s.take(this.limits, text.length, this.now());
    if (verdict === 'flood') return s.close(CLOSE.FLOOD, 'flood');
    const parsed = parseClientFrame(text, this.limits);
    if (parsed.kind === 'ping') return s.pong();
    if (parsed.kind === 'error') return this.refuse(s, parsed.error);
    const { call } = parsed;
    if (verdict !== 'ok') {
      const message = verdict === 'bytes' ? `rate limited: over ${this.limits.bytesPerSecond} bytes/s; slow down` : 'rate limited: slow down';
      return this.refuse(s, { code: ERROR.RATE_LIMITED, message, method: call.method, ...idOf(call) });
    }
    if (this.shuttingDown) {
      return this.refuse(s, { code: ERROR.SHUTTING_DOWN, message: 'server is shutting down', method: call.method, ...idOf(call) });
    }
    if (s.busy) {
      // Behind an unfinished call (a join waiting on `authorize`, a refresh): wait in order, within bounds.
      const q = (s.queue ??= []);
      if (q.length >= this.limits.maxPendingCalls || s.queuedBytes + text.length > this.limits.maxPendingBytes) {
        return this.refuse(s, { code: ERROR.BUSY, message: 'too many calls waiting for an earlier one to finish', method: call.method, ...idOf(call) });
      }
      q.push({ call, bytes: text.length });
      s.queuedBytes += text.length;
      return;
    }
    this.run(s, call);
  }

  /** Run one call; an async one (join, refresh) makes the session busy until it ends, then the queue goes on. */
  private run(s: Session, call: ClientCall): void {
    let r: void | Promise<void>;
    try {
      r = this.dispatch(s, call);
    } catch (e) {
      return this.internal(s, e, call);
    }
    if (!r) return;
    s.busy = true;
    r.catch((e: unknown) => this.internal(s, e, call)).finally(() => {
      s.busy = false;
      this.runQueued(s);
    });
  }

  /** Run the calls that waited, until one is async again. A closed session's queue is gone already. */
  private runQueued(s: Session): void {
    const q = s.queue;
    while (q !== null && q.length > 0 && !s.busy && !s.closed) {
      const next = q.shift()!;
      s.queuedBytes -= next.bytes;
      this.run(s, next.call);
    }
    if (q !== null && q.length === 0) {
      s.queue = null;
      s.queuedBytes = 0;
    }
  }

  /** Run one accepted call (a join may be async; the others finish at once). */
  private dispatch(s: Session, call: ClientCall): void | Promise<void> {
    switch (call.method) {
      case METHOD.send:
        return this.send(s, call.params, call.id);
      case METHOD.publish:
        return this.publish(s, call.params, call.id);
      case METHOD.join:
        return this.join(s, call.params, call.id);
      case METHOD.leave:
        return this.leaveCall(s, call.params.id, call.id);
      case METHOD.refresh:
        return this.refresh(s, call.params, call.id);
    }
  }

  /**
   * A binary frame of `bytes` bytes: refused, never closes by itself, but it counts against the rate limits like
   * any frame (a flood of binary frames is closed with 4429 as any flood).
   */
  receiveBinary(s: Session, bytes = 0): void {
    if (s.closed) return;
    const verdict = s.take(this.limits, bytes, this.now());
    if (verdict === 'flood') return s.close(CLOSE.FLOOD, 'flood');
    if (verdict !== 'ok') return; // over the limit: dropped without a reply (a reply would feed the flood)
    this.refuse(s, { code: ERROR.INVALID_REQUEST, message: 'binary frames are not supported; send JSON text' });
  }

  /** The transport closed: leave every channel (presence leaves at once). */
  disconnect(s: Session): void {
    s.closed = true;
    s.queue = null; // calls waiting behind a hung one are dropped at once
    s.queuedBytes = 0;
    if (this.sessions.get(s.route) !== s) return;
    this.sessions.delete(s.route);
    this.setExpiry(s, undefined);
    this.replacing.delete(s);
    for (const name of s.channelNames()) this.leave(s, name);
    const cur = this.byIdentity.get(s.identity);
    if (cur === undefined) return;
    if (cur instanceof Set) {
      cur.delete(s);
      if (cur.size > 1) return;
      const [last] = cur;
      if (last) return void this.byIdentity.set(s.identity, last);
    } else if (cur !== s) return;
    this.byIdentity.delete(s.identity);
    void this.link?.unsubscribe(identityTopic(s.identity));
  }

  /** Stop: refuse new calls, close every session with `code`, detach from the broker. */
  async shutdown(code: number = CLOSE.GOING_AWAY, reason = 'server shutting down'): Promise<void> {
    this.shuttingDown = true;
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    for (const s of [...this.sessions.values()]) {
      this.disconnect(s);
      s.closed = false;
      s.close(code, reason);
    }
    const link = await this.linkP;
    await link.close();
  }

  // ---- calls ----

  private send(s: Session, params: SendParams, rpcId: RpcId | undefined): void {
    const to = parseAddress(params.to, this.limits.maxAddressLength);
    if (!to) {
      return this.refuse(s, { code: ERROR.INVALID_PARAMS, message: 'to must be identity, identity/device or identity/device/route', method: METHOD.send, ...rid(rpcId) });
    }
    const ch = params.id;
    if (ch !== undefined && !s.inChannel(ch)) {
      return this.refuse(s, { code: ERROR.NOT_JOINED, message: `not joined to channel ${ch}`, method: METHOD.send, channel: ch, ...rid(rpcId) });
    }
    params.from = s.address; // stamped on the parsed params (ours alone), not on a copy
    const frame = outFrame(encodeNotification(METHOD.send, params));
    this.deliverDirect(to, ch, frame, s);
    const local = to.route !== undefined && this.sessions.has(to.route);
    if (!local) {
      void this.link?.publish(identityTopic(to.identity), { t: 'dm', to: params.to, from: s.address, frame: frame.text, ...(ch === undefined ? {} : { ch }) });
    }
    s.result(rpcId, { ok: true }, this.limits);
  }

  private deliverDirect(to: Address, ch: string | undefined, frame: OutFrame, except: Session | null): void {
    if (to.route !== undefined) {
      const t = this.sessions.get(to.route);
      if (t && t !== except && addressMatches(to, t) && (ch === undefined || t.inChannel(ch))) {
        t.write(frame, this.limits);
      }
      return;
    }
    const cur = this.byIdentity.get(to.identity);
    if (cur === undefined) return;
    if (!(cur instanceof Set)) return this.deliverTo(cur, to, ch, frame, except);
    for (const t of cur) this.deliverTo(t, to, ch, frame, except);
  }

  private deliverTo(t: Session, to: Address, ch: string | undefined, frame: OutFrame, except: Session | null): void {
    if (t === except || (to.device !== undefined && t.device !== to.device)) return;
    if (ch !== undefined && !t.inChannel(ch)) return;
    t.write(frame, this.limits);
  }

  private publish(s: Session, params: PublishParams, rpcId: RpcId | undefined): void {
    const name = params.id;
    const c = this.channels.get(name);
    if (!c || !s.inChannel(name)) {
      return this.refuse(s, { code: ERROR.NOT_JOINED, message: `not joined to channel ${name}`, method: METHOD.publish, channel: name, ...rid(rpcId) });
    }
    const hasState = 'state' in params;
    if (hasState) {
      if (!s.presenceIn(name)) {
        return this.refuse(s, { code: ERROR.PRESENCE_REQUIRED, message: `a state needs presence: join ${name} with presence: true`, method: METHOD.publish, channel: name, ...rid(rpcId) });
      }
      if (jsonLongerThan(params.state, this.limits.maxStateBytes)) {
        return this.refuse(s, { code: ERROR.TOO_LARGE, message: `state larger than ${this.limits.maxStateBytes} bytes`, method: METHOD.publish, channel: name, ...rid(rpcId) });
      }
    }
    params.from = s.address; // stamped on the parsed params (ours alone), not on a copy
    const frame = outFrame(encodeNotification(METHOD.publish, params));
    if (hasState && c.roster.has(s.address)) {
      c.roster.set(s.address, params.state);
      void this.link?.setState(name, s.address, params.state);
    }
    this.fanOut(c, frame, s);
    void this.link?.publish(channelTopic(name), hasState
      ? { t: 'pub', ch: name, from: s.address, frame: frame.text, hasState: true, state: params.state }
      : { t: 'pub', ch: name, from: s.address, frame: frame.text });
    s.result(rpcId, { ok: true }, this.limits);
  }

  private fanOut(c: LocalChannel, frame: OutFrame, except: Session | null): void {
    const limits = this.limits;
    for (const m of c.members.values()) if (m !== except) m.write(frame, limits);
  }

  private async join(s: Session, params: JoinParams, rpcId: RpcId | undefined): Promise<void> {
    const name = params.id;
    const presence = params.presence === true;
    const fail = (code: FrameError['code'], message: string): void =>
      this.refuse(s, { code, message, method: METHOD.join, channel: name, ...rid(rpcId) });
    if (s.inChannel(name)) {
      if (s.presenceIn(name) === presence) {
        return s.result(rpcId, { id: name, presence, members: this.channels.get(name)?.roster.size ?? 0, address: s.address, rate: this.rate() }, this.limits);
      }
      this.leave(s, name); // presence changed: rejoin with the new flag
    }
    if (s.channelCount() >= this.limits.maxChannelsPerConnection) {
      return fail(ERROR.TOO_MANY_CHANNELS, `joined to ${this.limits.maxChannelsPerConnection} channels already`);
    }
    if (this.authorize) {
      let ok: boolean | 'timeout' = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const ms = this.limits.authorizeTimeoutMs;
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, ms, 'timeout')));
        ok = await Promise.race([Promise.resolve(this.authorize(s.claims, name)), timeout]);
      } catch {
        ok = false;
      } finally {
        clearTimeout(timer);
      }
      if (ok === 'timeout') return fail(ERROR.FORBIDDEN, `authorize did not answer within ${this.limits.authorizeTimeoutMs} ms for channel ${name}`);
      if (!ok) return fail(ERROR.FORBIDDEN, `not allowed to join channel ${name}`);
      if (s.closed) return;
    }
    const c = this.openChannel(name);
    await c.ready;
    if (s.closed || s.inChannel(name)) return this.closeIfEmpty(c);
    if (Math.max(c.members.size, c.roster.size) >= this.limits.maxMembersPerChannel) {
      this.closeIfEmpty(c);
      return fail(ERROR.CHANNEL_FULL, `channel ${name} is full: ${this.limits.maxMembersPerChannel} members`);
    }
    c.members.set(s.address, s);
    s.addChannel(name, presence);
    const old = this.replacing.get(s);
    if (old !== undefined && c.roster.has(old) && !c.members.has(old)) this.dropMember(c, old);
    if (presence) {
      if (!(await this.replayRoster(s, c))) return;
      c.roster.set(s.address, undefined);
      const frame = outFrame(encodeNotification(METHOD.join, { id: name, from: s.address }));
      this.fanOut(c, frame, s);
      await this.link?.addMember(name, { address: s.address });
      void this.link?.publish(channelTopic(name), { t: 'join', ch: name, from: s.address, frame: frame.text });
    }
    s.result(rpcId, { id: name, presence, members: c.roster.size, address: s.address, rate: this.rate() }, this.limits);
  }

  /**
   * Tell a presence newcomer about everyone already there (`join_back`), then their states, with flow control: past
   * {@link REPLAY_HIGH_WATER} queued bytes it waits for the reader to drain, so a roster of any size reaches a
   * reading client, and the server never holds more than about that much of it per newcomer. Members that left
   * meanwhile are skipped (the newcomer got their leave live), and a state is the newest at the time it is sent.
   * `false` when the newcomer went away (or failed to drain within `slowConsumerMs` and was dropped).
   */
  private async replayRoster(s: Session, c: LocalChannel): Promise<boolean> {
    const snapshot = [...c.roster.keys()];
    const name = c.name;
    for (const addr of snapshot) {
      if (addr === s.address || !c.roster.has(addr)) continue;
      s.write(outFrame(encodeNotification(METHOD.joinBack, { id: name, from: addr })), this.limits);
      if (s.transport.bufferedAmount() > REPLAY_HIGH_WATER && !(await this.drained(s))) return false;
    }
    for (const addr of snapshot) {
      if (addr === s.address) continue;
      const state = c.roster.get(addr);
      if (state === undefined) continue;
      s.write(outFrame(encodeNotification(METHOD.send, { id: name, from: addr, to: s.address, state })), this.limits);
      if (s.transport.bufferedAmount() > REPLAY_HIGH_WATER && !(await this.drained(s))) return false;
    }
    return !s.closed;
  }

  /** Wait until `s` has drained below half the high-water mark; drop it if it does not within `slowConsumerMs`. */
  private async drained(s: Session): Promise<boolean> {
    const since = Date.now();
    while (!s.closed && s.transport.bufferedAmount() > REPLAY_HIGH_WATER / 2) {
      if (Date.now() - since > this.limits.slowConsumerMs) {
        s.closed = true;
        s.transport.terminate();
        return false;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return !s.closed;
  }

  private leaveCall(s: Session, name: string, rpcId: RpcId | undefined): void {
    if (!s.inChannel(name)) {
      return this.refuse(s, { code: ERROR.NOT_JOINED, message: `not joined to channel ${name}`, method: METHOD.leave, channel: name, ...rid(rpcId) });
    }
    this.leave(s, name);
    s.result(rpcId, { ok: true }, this.limits);
  }

  /**
   * `signal.refresh` (extension): a new token for the same identity and device replaces the connection's token
   * (its `exp`, and the claims `authorize` sees) without a reconnect.
   */
  private async refresh(s: Session, params: RefreshParams, rpcId: RpcId | undefined): Promise<void> {
    const fail = (code: FrameError['code'], message: string): void => this.refuse(s, { code, message, method: METHOD.refresh, ...rid(rpcId) });
    if (!this.verifyToken) return fail(ERROR.METHOD_NOT_FOUND, 'token refresh is not available on this server');
    let tok: VerifiedToken;
    try {
      tok = await this.verifyToken(params.jwt);
    } catch (e) {
      return fail(ERROR.UNAUTHORIZED, (e as Error)?.message ?? 'invalid token');
    }
    if (s.closed) return;
    if (tok.identity !== s.identity || tok.device !== s.device) {
      return fail(ERROR.UNAUTHORIZED, `the token is for ${tok.identity}/${tok.device}, not ${s.identity}/${s.device}`);
    }
    if (this.authorize) s.claims = tok.claims as Record<string, unknown>;
    this.setExpiry(s, tok.claims.exp);
    s.result(rpcId, { ok: true, ...(s.exp === 0 ? {} : { exp: s.exp / 1000 }) }, this.limits);
  }

  /** File `s` under its token's expiry (`exp` in seconds; `undefined`: none), replacing any earlier one. */
  private setExpiry(s: Session, exp: unknown): void {
    if (s.exp !== 0) {
      const key = Math.ceil(s.exp / 1000);
      const set = this.expiries.get(key);
      if (set?.delete(s) && set.size === 0) this.expiries.delete(key);
      s.exp = 0;
    }
    if (typeof exp !== 'number' || !Number.isFinite(exp) || s.closed) return;
    s.exp = exp * 1000;
    const key = Math.ceil(exp);
    let set = this.expiries.get(key);
    if (!set) this.expiries.set(key, (set = new Set()));
    set.add(s);
    if (this.expiryTimer === null && !this.shuttingDown) {
      // One timer for every connection: expiries are filed by second and checked once a second.
      this.expiryTimer = setInterval(() => this.expire(), 1000);
      (this.expiryTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Close, with 4401 `token expired`, every connection whose token's `exp` has passed. */
  private expire(): void {
    const now = this.now();
    for (const [key, set] of this.expiries) {
      if (key * 1000 > now + 1000) continue;
      for (const s of [...set]) {
        if (s.exp > now) continue; // a fraction of a second left
        set.delete(s);
        s.exp = 0;
        this.disconnect(s); // presence leaves now
        s.closed = false;
        s.close(CLOSE.UNAUTHORIZED, 'token expired');
      }
      if (set.size === 0) this.expiries.delete(key);
    }
    if (this.expiries.size === 0 && this.expiryTimer !== null) {
      clearInterval(this.expiryTimer);
      this.expiryTimer = null;
    }
  }

  private leave(s: Session, name: string): void {
    const presence = s.presenceIn(name);
    s.removeChannel(name);
    const c = this.channels.get(name);
    if (!c || c.members.get(s.address) !== s) return;
    c.members.delete(s.address);
    if (presence) this.dropMember(c, s.address);
    else this.touch(name, s.address);
    this.closeIfEmpty(c);
  }

  /**
   * Remove a presence member from a roster and announce the leave here, to the broker's roster and to the other
   * nodes. Used for a local member leaving, and for an endpoint its own client replaced (held by another node, maybe
   * a dead one), which then goes now rather than when its node's TTL runs out; a live node holding it closes it too
   * (leaves are idempotent).
   */
  private dropMember(c: LocalChannel, address: string): void {
    this.touch(c.name, address);
    if (!c.roster.delete(address)) return;
    const frame = outFrame(encodeNotification(METHOD.leave, { id: c.name, from: address }));
    this.fanOut(c, frame, null);
    void this.link?.removeMember(c.name, address);
    void this.link?.publish(channelTopic(c.name), { t: 'leave', ch: c.name, from: address, frame: frame.text });
  }

  private openChannel(name: string): LocalChannel {
    const existing = this.channels.get(name);
    if (existing) return existing;
    const c: LocalChannel = { name, members: new Map(), roster: new Map(), ready: Promise.resolve() };
    c.ready = (async () => {
      const link = await this.linkP;
      await link.subscribe(channelTopic(name));
      // A join or leave that arrives while the roster is read is newer than the read: it wins.
      const { fresh, touched, states } = await this.readRoster(link, name);
      for (const [addr, state] of fresh) {
        if (!touched.has(addr) && !c.roster.has(addr)) c.roster.set(addr, states.has(addr) ? states.get(addr) : state);
      }
    })();
    this.channels.set(name, c);
    return c;
  }

  private closeIfEmpty(c: LocalChannel): void {
    if (c.members.size > 0 || this.channels.get(c.name) !== c) return;
    this.channels.delete(c.name);
    void c.ready.then(() => {
      if (this.channels.get(c.name) === undefined) void this.link?.unsubscribe(channelTopic(c.name));
    });
  }

  // ---- broker ----

  private onBrokerMessage(_topic: string, msg: BrokerMessage): void {
    try {
      if (msg.t === 'dm') {
        const to = parseAddress(msg.to, this.limits.maxAddressLength);
        if (to) this.deliverDirect(to, msg.ch, outFrame(msg.frame), null);
        return;
      }
      if (msg.t === 'replace') {
        const route = parseAddress(msg.address, this.limits.maxAddressLength)?.route;
        const t = route === undefined ? undefined : this.sessions.get(route);
        if (t) this.closeReplaced(t, msg.address);
        return;
      }
      const c = this.channels.get(msg.ch);
      if (!c) return;
      if (msg.t === 'join') {
        // Already known (a roster read saw it first): no second join frame.
        if (c.roster.has(msg.from)) return this.touch(msg.ch, msg.from);
        c.roster.set(msg.from, undefined);
      } else if (msg.t === 'leave') {
        // Already gone (a roster read removed it first): no second leave frame.
        if (!c.roster.delete(msg.from)) return this.touch(msg.ch, msg.from);
      } else if (msg.hasState && c.roster.has(msg.from)) c.roster.set(msg.from, msg.state);
      else if (msg.hasState) this.lateState(msg.ch, msg.from, msg.state);
      if (msg.t !== 'pub' || (msg.hasState && c.roster.has(msg.from))) this.touch(msg.ch, msg.from);
      this.fanOut(c, outFrame(msg.frame), null);
    } catch {
      // A malformed broker message must not take the node down.
    }
  }

  /** Members of another node vanished (it died): tell the local members they left. Idempotent. */
  private onMembersLost(channel: string, addresses: string[]): void {
    const c = this.channels.get(channel);
    if (!c) return;
    for (const addr of addresses) {
      if (c.members.has(addr)) continue; // ours and alive: never reported lost
      this.touch(channel, addr);
      if (!c.roster.delete(addr)) continue;
      this.fanOut(c, outFrame(encodeNotification(METHOD.leave, { id: channel, from: addr })), null);
    }
  }

  /**
   * After a broker outage (no `channels`): resubscribe, re-add local presence members and reconcile every roster.
   * With `channels`: another node rewrote those rosters; reconcile them only.
   */
  private async resync(channels?: string[]): Promise<void> {
    const link = await this.linkP;
    const names = channels ?? [...this.channels.keys()];
    // Batches of concurrent channels: one broker round trip per batch, not per channel (a node may hold thousands).
    for (let i = 0; i < names.length; i += RESYNC_BATCH) {
      await Promise.all(names.slice(i, i + RESYNC_BATCH).map((name) => this.resyncChannel(link, name, !channels)));
    }
    if (!channels) for (const identity of this.byIdentity.keys()) void link.subscribe(identityTopic(identity));
  }

  /** Reconcile one channel's roster with the broker's (first resubscribe and re-add my members after an outage). */
  private async resyncChannel(link: BrokerLink, name: string, afterOutage: boolean): Promise<void> {
    const c = this.channels.get(name);
    if (!c) return;
    try {
      if (afterOutage) {
        await link.subscribe(channelTopic(name));
        for (const [addr, s] of c.members) {
          if (s.presenceIn(name)) await link.addMember(name, { address: addr, state: c.roster.get(addr) });
        }
      }
      const { fresh, unsure, touched, states } = await this.readRoster(link, name);
      for (const [addr, state] of states) if (fresh.has(addr)) fresh.set(addr, state);
      if (this.channels.get(name) !== c) return;
      // An unsure member (not in `fresh`) is never announced: kept if held (no leave), not added otherwise (no join).
      for (const addr of [...c.roster.keys()]) {
        if (!fresh.has(addr) && !touched.has(addr) && !unsure.has(addr)) this.onMembersLost(name, [addr]);
      }
      for (const [addr, state] of fresh) {
        if (touched.has(addr) || c.members.has(addr)) continue;
        const known = c.roster.has(addr);
        if (known && JSON.stringify(c.roster.get(addr)) === JSON.stringify(state)) continue;
        c.roster.set(addr, state);
        if (!known) this.fanOut(c, outFrame(encodeNotification(METHOD.join, { id: name, from: addr })), null);
        if (state !== undefined) {
          this.fanOut(c, outFrame(encodeNotification(METHOD.publish, { id: name, from: addr, state })), null);
        }
      }
    } catch {
      // The broker dropped again; the next resync retries.
    }
  }

  /**
   * Read a roster, noting which addresses broker messages touched while the read was in flight. `fresh`: the members
   * the broker is sure of; `unsure`: those it cannot tell about for now (kept if held, never added).
   */
  private async readRoster(link: BrokerLink, name: string): Promise<RosterRead & { fresh: Map<string, unknown>; unsure: Set<string> }> {
    const read: RosterRead = { touched: new Set(), states: new Map() };
    let reads = this.rosterReads.get(name);
    if (!reads) this.rosterReads.set(name, (reads = new Set()));
    reads.add(read);
    try {
      const members = await link.members(name);
      const fresh = new Map<string, unknown>();
      const unsure = new Set<string>();
      for (const m of members) {
        if (m.unsure) unsure.add(m.address);
        else fresh.set(m.address, m.state);
      }
      return { fresh, unsure, ...read };
    } finally {
      reads.delete(read);
      if (reads.size === 0 && this.rosterReads.get(name) === reads) this.rosterReads.delete(name);
    }
  }

  private touch(channel: string, address: string): void {
    const reads = this.rosterReads.get(channel);
    if (reads) for (const r of reads) r.touched.add(address);
  }

  /** A state from a member not yet in the roster, while the roster is being read: newer than the read. */
  private lateState(channel: string, address: string, state: unknown): void {
    const reads = this.rosterReads.get(channel);
    if (reads) for (const r of reads) r.states.set(address, state);
  }

  /** The rate limit, told in join replies (extension) so clients can pace themselves under it. */
  private rate(): { framesPerSecond: number; burst: number } {
    return { framesPerSecond: this.limits.framesPerSecond, burst: this.limits.frameBurst };
  }

  private refuse(s: Session, err: FrameError): void {
    s.refuse(err, this.limits);
  }

  private internal(s: Session, e: unknown, call: { method: string; id?: RpcId; params: object }): void {
    // A payload nested so deeply that it cannot be re-encoded (JSON.stringify overflows its stack) is the client's fault.
    if (e instanceof RangeError) {
      return this.refuse(s, { code: ERROR.INVALID_PARAMS, message: 'params nested too deeply', method: call.method, ...idOf(call) });
    }
    this.refuse(s, { code: ERROR.INTERNAL, message: `internal error: ${(e as Error)?.message ?? String(e)}`, method: call.method, ...idOf(call) });
  }
}

const NO_CLAIMS: Record<string, unknown> = Object.freeze({});
/** Bytes queued for a newcomer past which its roster replay waits for it to drain (see `replayRoster`). */
const REPLAY_HIGH_WATER = 262_144;
/** Channels reconciled concurrently by `resync`. */
const RESYNC_BATCH = 64;

/** What changed while a roster was being read from the broker (those changes are newer than the read). */
interface RosterRead {
  /** Members that joined, left or changed state meanwhile. */
  touched: Set<string>;
  /** States published meanwhile by members the roster did not hold yet. */
  states: Map<string, unknown>;
}

/** Whether a value's JSON is longer than `max` bytes of UTF-8 (encoded only when the length alone cannot tell). */
function jsonLongerThan(value: unknown, max: number): boolean {
  const text = JSON.stringify(value) ?? '';
  if (text.length > max) return true; // at least one byte per UTF-16 unit
  if (text.length * 3 <= max) return false; // at most three
  return new TextEncoder().encode(text).length > max;
}

function rid(id: RpcId | undefined): { id?: RpcId } {
  return id === undefined ? {} : { id };
}
function idOf(call: { id?: RpcId; params: object }): { id?: RpcId; channel?: string } {
  const out: { id?: RpcId; channel?: string } = rid(call.id);
  const channel = (call.params as { id?: unknown }).id;
  if (typeof channel === 'string') out.channel = channel;
  return out;
}
