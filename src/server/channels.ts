/**
 * Channels on one node: join (the `authorize` hook, the channel and per-connection caps, the roster replay to a
 * presence newcomer), leave, publish (a state needs presence and fits in `maxStateBytes`), fan-out to the local
 * members and to other nodes, removal of a presence member, and opening and closing the local channel (its broker
 * topic is subscribed while a local member needs it).
 */
import { ERROR, METHOD, type Limits } from '../protocol/constants.js';
import { encodeNotification, type FrameError, type JoinParams, type PublishParams, type RpcId } from '../protocol/frames.js';
import { askAuthorize, type Authorize } from './authorize.js';
import { channelTopic } from './broker.js';
import type { CoreContext } from './core-context.js';
import { fanOut, type LocalChannel, type LocalChannels } from './local-channel.js';
import { rid } from './reply-ids.js';
import { replayRoster } from './roster-replay.js';
import type { RosterSync } from './roster-sync.js';
import type { DirectRoutes } from './routing.js';
import { outFrame, type Session } from './session.js';

export class Channels {
  private readonly limits: Limits;

  constructor(
    private readonly ctx: CoreContext,
    /** The channels this node holds (shared with `RosterSync`). */
    private readonly open: LocalChannels,
    private readonly sync: RosterSync,
    /** Read for the endpoint a joining session replaced (dropped from the roster on a presence join). */
    private readonly routes: DirectRoutes,
    private readonly authorize: Authorize | undefined,
  ) {
    this.limits = ctx.limits;
  }

  /** How many channels this node holds. */
  get size(): number {
    return this.open.size;
  }

  /** `signal.join`: async (authorize, the roster read, the replay); replies with the channel's facts. */
  join(s: Session, params: JoinParams, rpcId: RpcId | undefined): Promise<void> {
    // A presence change is a leave and a join here, but no membership change for the hooks (webhooks): unless the
    // rejoin is refused, then the member has left.
    const hooks = this.ctx.hooks;
    if (!hooks || !s.inChannel(params.id) || s.presenceIn(params.id) === (params.presence === true)) return this.joinOnce(s, params, rpcId);
    return this.joinOnce(s, params, rpcId).finally(() => {
      if (!s.inChannel(params.id)) hooks.left(s, params.id);
    });
  }

  private async joinOnce(s: Session, params: JoinParams, rpcId: RpcId | undefined): Promise<void> {
    const name = params.id;
    const presence = params.presence === true;
    const limits = this.limits;
    const fail = (code: FrameError['code'], message: string): void =>
      s.refuse({ code, message, method: METHOD.join, channel: name, ...rid(rpcId) }, limits);
    if (s.inChannel(name)) {
      if (s.presenceIn(name) === presence) {
        return s.result(rpcId, { id: name, presence, members: this.open.get(name)?.roster.size ?? 0, address: s.address, rate: this.rate() }, limits);
      }
      this.leave(s, name, true); // presence changed: rejoin with the new flag
    }
    if (s.channelCount() >= limits.maxChannelsPerConnection) {
      return fail(ERROR.TOO_MANY_CHANNELS, `joined to ${limits.maxChannelsPerConnection} channels already`);
    }
    if (this.authorize) {
      const ok = await askAuthorize(this.authorize, s.claims, name, limits.authorizeTimeoutMs);
      if (ok === 'timeout') return fail(ERROR.FORBIDDEN, `authorize did not answer within ${limits.authorizeTimeoutMs} ms for channel ${name}`);
      if (!ok) return fail(ERROR.FORBIDDEN, `not allowed to join channel ${name}`);
      if (s.closed) return;
    }
    const c = this.openChannel(name);
    await c.ready;
    if (s.closed || s.inChannel(name)) return this.closeIfEmpty(c);
    if (Math.max(c.members.size, c.roster.size) >= limits.maxMembersPerChannel) {
      this.closeIfEmpty(c);
      return fail(ERROR.CHANNEL_FULL, `channel ${name} is full: ${limits.maxMembersPerChannel} members`);
    }
    c.members.set(s.address, s);
    s.addChannel(name, presence);
    const old = this.routes.replacedBy(s);
    this.ctx.hooks?.joined(s, name, old);
    if (old !== undefined && c.roster.has(old) && !c.members.has(old)) this.dropMember(c, old);
    const batch = presence && params.batch === true;
    if (presence) {
      const frame = outFrame(encodeNotification(METHOD.join, { id: name, from: s.address }));
      if (batch) {
        // Batched presence (presence-batch.ts): joined and announced first, so that newcomers of one tick share one snapshot.
        const snapshot = this.sync.presence.admit(s, c);
        c.roster.set(s.address, undefined);
        this.sync.presence.announce(c, frame, s.address, s);
        if (!(await snapshot)) return;
      } else {
        if (!(await replayRoster(s, c, limits))) return;
        c.roster.set(s.address, undefined);
        this.sync.presence.announce(c, frame, s.address, s);
      }
      await this.ctx.link?.addMember(name, { address: s.address });
      void this.ctx.link?.publish(channelTopic(name), { t: 'join', ch: name, from: s.address, frame: frame.text });
    }
    s.result(rpcId, { id: name, presence, members: c.roster.size, address: s.address, rate: this.rate(), ...(batch ? { batch } : {}) }, limits);
  }

  /** `signal.leave`. */
  leaveCall(s: Session, name: string, rpcId: RpcId | undefined): void {
    if (!s.inChannel(name)) {
      return s.refuse({ code: ERROR.NOT_JOINED, message: `not joined to channel ${name}`, method: METHOD.leave, channel: name, ...rid(rpcId) }, this.limits);
    }
    this.leave(s, name);
    s.result(rpcId, { ok: true }, this.limits);
  }

  /** `s` leaves `name` (a call, a rejoin, a disconnect): a presence member's leave is announced. `rejoin`: hooks not told. */
  leave(s: Session, name: string, rejoin = false): void {
    const presence = s.presenceIn(name);
    s.removeChannel(name);
    if (!rejoin && presence !== undefined) this.ctx.hooks?.left(s, name);
    const c = this.open.get(name);
    if (!c || c.members.get(s.address) !== s) return;
    c.members.delete(s.address);
    this.sync.presence.forget(c, s);
    if (presence) this.dropMember(c, s.address);
    else this.sync.touch(name, s.address);
    this.closeIfEmpty(c);
  }

  /** Local members of `name` (0 when not held here). */
  localMembers(name: string): number {
    return this.open.get(name)?.members.size ?? 0;
  }

  /** Presence members in the rosters of every channel held here. */
  rosterTotal(): number {
    let n = 0;
    for (const c of this.open.values()) n += c.roster.size;
    return n;
  }

  /** `signal.publish`: to every member but the sender, here and on other nodes; a `state` is also kept. */
  publish(s: Session, params: PublishParams, rpcId: RpcId | undefined): void {
    const name = params.id;
    const c = this.open.get(name);
    const limits = this.limits;
    if (!c || !s.inChannel(name)) {
      return s.refuse({ code: ERROR.NOT_JOINED, message: `not joined to channel ${name}`, method: METHOD.publish, channel: name, ...rid(rpcId) }, limits);
    }
    const hasState = 'state' in params;
    if (hasState) {
      if (!s.presenceIn(name)) {
        return s.refuse({ code: ERROR.PRESENCE_REQUIRED, message: `a state needs presence: join ${name} with presence: true`, method: METHOD.publish, channel: name, ...rid(rpcId) }, limits);
      }
      if (jsonLongerThan(params.state, limits.maxStateBytes)) {
        return s.refuse({ code: ERROR.TOO_LARGE, message: `state larger than ${limits.maxStateBytes} bytes`, method: METHOD.publish, channel: name, ...rid(rpcId) }, limits);
      }
    }
    params.from = s.address; // stamped on the parsed params (ours alone), not on a copy
    const frame = outFrame(encodeNotification(METHOD.publish, params));
    const link = this.ctx.link;
    if (hasState && c.roster.has(s.address)) {
      c.roster.set(s.address, params.state);
      void link?.setState(name, s.address, params.state);
      this.ctx.hooks?.state(s, name, params.state);
    }
    fanOut(c, frame, s, limits);
    void link?.publish(channelTopic(name), hasState
      ? { t: 'pub', ch: name, from: s.address, frame: frame.text, hasState: true, state: params.state }
      : { t: 'pub', ch: name, from: s.address, frame: frame.text });
    s.result(rpcId, { ok: true }, limits);
  }

  /**
   * Remove a presence member from a roster and announce the leave here, to the broker's roster and to the other
   * nodes. Used for a local member leaving, and for an endpoint its own client replaced (held by another node, maybe
   * a dead one), which then goes now rather than when its node's TTL runs out; a live node holding it closes it too
   * (leaves are idempotent).
   */
  private dropMember(c: LocalChannel, address: string): void {
    this.sync.touch(c.name, address);
    if (!c.roster.delete(address)) return;
    const frame = outFrame(encodeNotification(METHOD.leave, { id: c.name, from: address }));
    this.sync.presence.announce(c, frame, address, null);
    void this.ctx.link?.removeMember(c.name, address);
    void this.ctx.link?.publish(channelTopic(c.name), { t: 'leave', ch: c.name, from: address, frame: frame.text });
  }

  /** The channel held here, or a new one: subscribed to its topic, then its roster read (`ready`). */
  private openChannel(name: string): LocalChannel {
    const existing = this.open.get(name);
    if (existing) return existing;
    const c: LocalChannel = { name, members: new Map(), roster: new Map(), ready: Promise.resolve() };
    c.ready = (async () => {
      const link = await this.ctx.linkP;
      await link.subscribe(channelTopic(name));
      await this.sync.load(link, c);
    })();
    this.open.set(name, c);
    return c;
  }

  /** Forget a channel no local member holds any more, and unsubscribe its topic (unless it reopened meanwhile). */
  private closeIfEmpty(c: LocalChannel): void {
    if (c.members.size > 0 || this.open.get(c.name) !== c) return;
    this.open.delete(c.name);
    void c.ready.then(() => {
      if (this.open.get(c.name) === undefined) void this.ctx.link?.unsubscribe(channelTopic(c.name));
    });
  }

  /** The rate limit, told in join replies (extension) so clients can pace themselves under it. */
  private rate(): { framesPerSecond: number; burst: number } {
    return { framesPerSecond: this.limits.framesPerSecond, burst: this.limits.frameBurst };
  }
}

/** Whether a value's JSON is longer than `max` bytes of UTF-8 (encoded only when the length alone cannot tell). */
function jsonLongerThan(value: unknown, max: number): boolean {
  const text = JSON.stringify(value) ?? '';
  if (text.length > max) return true; // at least one byte per UTF-16 unit
  if (text.length * 3 <= max) return false; // at most three
  return new TextEncoder().encode(text).length > max;
}
