import { parseAddress, addressMatches, type Address } from '../protocol/address.js';
import { CLOSE, DEFAULT_LIMITS, ERROR, METHOD, type Limits } from '../protocol/constants.js';
import {
  encodeNotification,
  parseClientFrame,
  type ClientCall,
  type FrameError,
  type JoinParams,
  type PublishParams,
  type RpcId,
  type SendParams,
} from '../protocol/frames.js';
import { channelTopic, identityTopic, MemoryBroker, type Broker, type BrokerLink, type BrokerMessage } from './broker.js';
import { randomId } from './auth.js';
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

  constructor(opts: CoreOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.authorize = opts.authorize;
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
   * Register an authenticated connection; returns its session. `replaces`: the address of this client's previous
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
    // Every frame counts toward the rate limit, `_ping` included (a ping flood is a flood).
    const verdict = s.take(this.limits.framesPerSecond, this.limits.frameBurst, this.now());
    if (verdict === 'flood') return s.close(CLOSE.FLOOD, 'flood');
    const parsed = parseClientFrame(text, this.limits);
    if (parsed.kind === 'ping') return s.pong();
    if (parsed.kind === 'error') return this.refuse(s, parsed.error);
    const { call } = parsed;
    if (verdict === 'refuse') {
      return this.refuse(s, { code: ERROR.RATE_LIMITED, message: 'rate limited: slow down', method: call.method, ...idOf(call) });
    }
    if (this.shuttingDown) {
      return this.refuse(s, { code: ERROR.SHUTTING_DOWN, message: 'server is shutting down', method: call.method, ...idOf(call) });
    }
    if (s.pending) {
      const p: Promise<void> = s.pending
        .then(() => this.dispatch(s, call))
        .catch((e) => this.internal(s, e, call))
        .finally(() => {
          if (s.pending === p) s.pending = null;
        });
      s.pending = p;
      return;
    }
    try {
      const r = this.dispatch(s, call);
      if (r) {
        const p: Promise<void> = r.catch((e) => this.internal(s, e, call)).finally(() => {
          if (s.pending === p) s.pending = null;
        });
        s.pending = p;
      }
    } catch (e) {
      this.internal(s, e, call);
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
    }
  }

  /** A binary frame: refused, never closes. */
  receiveBinary(s: Session): void {
    if (s.closed) return;
    this.refuse(s, { code: ERROR.INVALID_REQUEST, message: 'binary frames are not supported; send JSON text' });
  }

  /** The transport closed: leave every channel (presence leaves at once). */
  disconnect(s: Session): void {
    s.closed = true;
    if (this.sessions.get(s.route) !== s) return;
    this.sessions.delete(s.route);
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
    s.result(rpcId, { ok: true }, this.limits.maxBufferedBytes);
  }

  private deliverDirect(to: Address, ch: string | undefined, frame: OutFrame, except: Session | null): void {
    if (to.route !== undefined) {
      const t = this.sessions.get(to.route);
      if (t && t !== except && addressMatches(to, t) && (ch === undefined || t.inChannel(ch))) {
        t.write(frame, this.limits.maxBufferedBytes);
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
    t.write(frame, this.limits.maxBufferedBytes);
  }

  private publish(s: Session, params: PublishParams, rpcId: RpcId | undefined): void {
    const name = params.id;
    const c = this.channels.get(name);
    if (!c || !s.inChannel(name)) {
      return this.refuse(s, { code: ERROR.NOT_JOINED, message: `not joined to channel ${name}`, method: METHOD.publish, channel: name, ...rid(rpcId) });
    }
    params.from = s.address; // stamped on the parsed params (ours alone), not on a copy
    const frame = outFrame(encodeNotification(METHOD.publish, params));
    const hasState = 'state' in params;
    if (hasState && c.roster.has(s.address)) {
      c.roster.set(s.address, params.state);
      void this.link?.setState(name, s.address, params.state);
    }
    this.fanOut(c, frame, s);
    void this.link?.publish(channelTopic(name), hasState
      ? { t: 'pub', ch: name, from: s.address, frame: frame.text, hasState: true, state: params.state }
      : { t: 'pub', ch: name, from: s.address, frame: frame.text });
    s.result(rpcId, { ok: true }, this.limits.maxBufferedBytes);
  }

  private fanOut(c: LocalChannel, frame: OutFrame, except: Session | null): void {
    const max = this.limits.maxBufferedBytes;
    for (const m of c.members.values()) if (m !== except) m.write(frame, max);
  }

  private async join(s: Session, params: JoinParams, rpcId: RpcId | undefined): Promise<void> {
    const name = params.id;
    const presence = params.presence === true;
    const fail = (code: FrameError['code'], message: string): void =>
      this.refuse(s, { code, message, method: METHOD.join, channel: name, ...rid(rpcId) });
    if (s.inChannel(name)) {
      if (s.presenceIn(name) === presence) {
        return s.result(rpcId, { id: name, presence, members: this.channels.get(name)?.roster.size ?? 0, address: s.address, rate: this.rate() }, this.limits.maxBufferedBytes);
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
    c.members.set(s.address, s);
    s.addChannel(name, presence);
    const old = this.replacing.get(s);
    if (old !== undefined && c.roster.has(old) && !c.members.has(old)) this.dropMember(c, old);
    if (presence) {
      const max = this.limits.maxBufferedBytes;
      // Tell the newcomer about everyone already there, then their states.
      const states: OutFrame[] = [];
      for (const [addr, state] of c.roster) {
        if (addr === s.address) continue;
        s.write(outFrame(encodeNotification(METHOD.joinBack, { id: name, from: addr })), max);
        if (state !== undefined) {
          states.push(outFrame(encodeNotification(METHOD.send, { id: name, from: addr, to: s.address, state })));
        }
      }
      for (const f of states) s.write(f, max);
      c.roster.set(s.address, undefined);
      const frame = outFrame(encodeNotification(METHOD.join, { id: name, from: s.address }));
      this.fanOut(c, frame, s);
      await this.link?.addMember(name, { address: s.address });
      void this.link?.publish(channelTopic(name), { t: 'join', ch: name, from: s.address, frame: frame.text });
    }
    s.result(rpcId, { id: name, presence, members: c.roster.size, address: s.address, rate: this.rate() }, this.limits.maxBufferedBytes);
  }

  private leaveCall(s: Session, name: string, rpcId: RpcId | undefined): void {
    if (!s.inChannel(name)) {
      return this.refuse(s, { code: ERROR.NOT_JOINED, message: `not joined to channel ${name}`, method: METHOD.leave, channel: name, ...rid(rpcId) });
    }
    this.leave(s, name);
    s.result(rpcId, { ok: true }, this.limits.maxBufferedBytes);
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
      const { fresh, touched, states } = await this.readRoster(link, name);
      for (const [addr, state] of states) if (fresh.has(addr)) fresh.set(addr, state);
      if (this.channels.get(name) !== c) return;
      for (const addr of [...c.roster.keys()]) {
        if (!fresh.has(addr) && !touched.has(addr)) this.onMembersLost(name, [addr]);
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

  /** Read a roster, noting which addresses broker messages touched while the read was in flight. */
  private async readRoster(link: BrokerLink, name: string): Promise<RosterRead & { fresh: Map<string, unknown> }> {
    const read: RosterRead = { touched: new Set(), states: new Map() };
    let reads = this.rosterReads.get(name);
    if (!reads) this.rosterReads.set(name, (reads = new Set()));
    reads.add(read);
    try {
      const members = await link.members(name);
      return { fresh: new Map(members.map((m) => [m.address, m.state] as const)), ...read };
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
    s.refuse(err, this.limits.maxBufferedBytes);
  }

  private internal(s: Session, e: unknown, call: { method: string; id?: RpcId; params: { id?: unknown } }): void {
    // A payload nested so deeply that it cannot be re-encoded (JSON.stringify overflows its stack) is the client's fault.
    if (e instanceof RangeError) {
      return this.refuse(s, { code: ERROR.INVALID_PARAMS, message: 'params nested too deeply', method: call.method, ...idOf(call) });
    }
    this.refuse(s, { code: ERROR.INTERNAL, message: `internal error: ${(e as Error)?.message ?? String(e)}`, method: call.method, ...idOf(call) });
  }
}

const NO_CLAIMS: Record<string, unknown> = Object.freeze({});
/** Channels reconciled concurrently by `resync`. */
const RESYNC_BATCH = 64;

/** What changed while a roster was being read from the broker (those changes are newer than the read). */
interface RosterRead {
  /** Members that joined, left or changed state meanwhile. */
  touched: Set<string>;
  /** States published meanwhile by members the roster did not hold yet. */
  states: Map<string, unknown>;
}

function rid(id: RpcId | undefined): { id?: RpcId } {
  return id === undefined ? {} : { id };
}
function idOf(call: { id?: RpcId; params: { id?: unknown } }): { id?: RpcId; channel?: string } {
  const out: { id?: RpcId; channel?: string } = rid(call.id);
  if (typeof call.params.id === 'string') out.channel = call.params.id;
  return out;
}
