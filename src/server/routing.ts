/**
 * Direct routing: the endpoint index of one node (its sessions by route, and by identity with the one-item-or-set
 * pattern, the identity's broker topic subscribed while it has a local endpoint), delivery of direct messages here
 * and through the broker, and `replaces` (extension): a reconnecting client's earlier endpoint of the same identity
 * and device is closed at once, here or on the node that holds it.
 */
import { addressMatches, parseAddress, type Address } from '../protocol/address.js';
import { CLOSE, ERROR, METHOD, type Limits } from '../protocol/constants.js';
import { encodeNotification, type RpcId, type SendParams } from '../protocol/frames.js';
import { identityTopic, type BrokerLink, type BrokerMessage } from './broker.js';
import type { CoreContext } from './core-context.js';
import { addItem, itemCount, removeItem, type OneOrSet } from './one-or-set.js';
import { rid } from './reply-ids.js';
import { outFrame, type OutFrame, type Session } from './session.js';

/** Closes a session with a code and a reason, its channels left first (the core's `evict`). */
export type Evict = (s: Session, code: number, reason: string) => void;

export class DirectRoutes {
  private readonly limits: Limits;
  /** Local sessions by route (the last part of their address: unique per connection). */
  private readonly byRoute = new Map<string, Session>();
  /** identity -> its one session, or a Set once it has several endpoints (most have one). */
  private readonly byIdentity = new Map<string, OneOrSet<Session>>();
  /** Sessions that replaced an earlier endpoint -> that endpoint's address (dropped from rosters on presence joins). */
  private readonly replacing = new Map<Session, string>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly evict: Evict,
  ) {
    this.limits = ctx.limits;
  }

  /** Local sessions. */
  get size(): number {
    return this.byRoute.size;
  }

  /** Every local session (a copy). */
  sessions(): Session[] {
    return [...this.byRoute.values()];
  }

  /** Local sessions of `identity`. */
  count(identity: string): number {
    return itemCount(this.byIdentity, identity);
  }

  /** Local sessions that the address `to` reaches (server API: send, disconnect, unsubscribe). */
  matching(to: Address): Session[] {
    if (to.route !== undefined) {
      const t = this.byRoute.get(to.route);
      return t && addressMatches(to, t) ? [t] : [];
    }
    const cur = this.byIdentity.get(to.identity);
    const all = cur === undefined ? [] : cur instanceof Set ? [...cur] : [cur];
    return to.device === undefined ? all : all.filter((t) => t.device === to.device);
  }

  /** Index a new session; with `replaces`, close this client's earlier endpoint (see `SignalCore.connect`). */
  add(s: Session, replaces: string | null | undefined): void {
    this.byRoute.set(s.route, s);
    if (addItem(this.byIdentity, s.identity, s)) void this.ctx.link?.subscribe(identityTopic(s.identity));
    if (replaces) this.replace(s, replaces);
  }

  /** Remove `s` from the route index; `false` when it was not there (removed already). Then call {@link unindex}. */
  unroute(s: Session): boolean {
    if (this.byRoute.get(s.route) !== s) return false;
    this.byRoute.delete(s.route);
    this.replacing.delete(s);
    return true;
  }

  /** Remove `s` from the identity index, unsubscribing the identity's topic with its last local endpoint. */
  unindex(s: Session): void {
    if (removeItem(this.byIdentity, s.identity, s)) void this.ctx.link?.unsubscribe(identityTopic(s.identity));
  }

  /** The address of the endpoint `s` replaced, if any. */
  replacedBy(s: Session): string | undefined {
    return this.replacing.get(s);
  }

  /** After a broker outage: subscribe every local identity's topic again. */
  resubscribe(link: BrokerLink): void {
    for (const identity of this.byIdentity.keys()) void link.subscribe(identityTopic(identity));
  }

  /** `signal.send`: deliver to the local endpoints `to` names and, unless it names one of them alone, to other nodes. */
  send(s: Session, params: SendParams, rpcId: RpcId | undefined): void {
    const to = parseAddress(params.to, this.limits.maxAddressLength);
    if (!to) {
      return s.refuse({ code: ERROR.INVALID_PARAMS, message: 'to must be identity, identity/device or identity/device/route', method: METHOD.send, ...rid(rpcId) }, this.limits);
    }
    const ch = params.id;
    if (ch !== undefined && !s.inChannel(ch)) {
      return s.refuse({ code: ERROR.NOT_JOINED, message: `not joined to channel ${ch}`, method: METHOD.send, channel: ch, ...rid(rpcId) }, this.limits);
    }
    params.from = s.address; // stamped on the parsed params (ours alone), not on a copy
    const frame = outFrame(encodeNotification(METHOD.send, params));
    this.deliverDirect(to, ch, frame, s);
    const local = to.route !== undefined && this.byRoute.has(to.route);
    if (!local) {
      void this.ctx.link?.publish(identityTopic(to.identity), { t: 'dm', to: params.to, from: s.address, frame: frame.text, ...(ch === undefined ? {} : { ch }) });
    }
    s.result(rpcId, { ok: true }, this.limits);
  }

  /** A direct message from another node. */
  onDirect(msg: Extract<BrokerMessage, { t: 'dm' }>): void {
    const to = parseAddress(msg.to, this.limits.maxAddressLength);
    if (to) this.deliverDirect(to, msg.ch, outFrame(msg.frame), null);
  }

  /** Another node's session replaced an endpoint: close it if it is held here. */
  onReplace(msg: Extract<BrokerMessage, { t: 'replace' }>): void {
    const route = parseAddress(msg.address, this.limits.maxAddressLength)?.route;
    const t = route === undefined ? undefined : this.byRoute.get(route);
    if (t) this.closeReplaced(t, msg.address);
  }

  /** Write `frame` to every local endpoint `to` names (joined to `ch` when given), except `except`. */
  private deliverDirect(to: Address, ch: string | undefined, frame: OutFrame, except: Session | null): void {
    if (to.route !== undefined) {
      const t = this.byRoute.get(to.route);
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

  /** See `SignalCore.connect`: close the endpoint `old` if it is this client's own earlier one, here or on another node. */
  private replace(s: Session, old: string): void {
    const a = parseAddress(old, this.limits.maxAddressLength);
    if (!a || a.route === undefined || a.identity !== s.identity || a.device !== s.device || old === s.address) return;
    this.replacing.set(s, old);
    const t = this.byRoute.get(a.route);
    if (t) return this.closeReplaced(t, old);
    // Held elsewhere, or by a node that died: its node closes it; presence joins of `s` drop it from rosters.
    void this.ctx.link?.publish(identityTopic(s.identity), { t: 'replace', address: old });
  }

  private closeReplaced(t: Session, address: string): void {
    if (t.address !== address) return;
    this.evict(t, CLOSE.REPLACED, 'replaced by a newer connection of this device');
  }
}
