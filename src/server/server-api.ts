/**
 * The server API inside the core (`SignalCore.api`): send, publish, presence, channels, disconnect and unsubscribe,
 * across every node. Each call checks its input (a {@link ServerApiError} says why it was refused), acts on this
 * node's sessions, and tells the other nodes through the broker: a direct message and a channel message travel as the
 * `dm` and `pub` messages members' own do; `kick` and `unsub` go to the target identity's topic, which every node
 * holding one of its endpoints subscribes to; `channels()` asks the broker to sum every node's counts.
 */
import { parseAddress, type Address } from '../protocol/address.js';
import { CLOSE, METHOD, SERVER_FROM, type Limits } from '../protocol/constants.js';
import { channelNameError, encodeNotification } from '../protocol/frames.js';
import { isWellFormed } from '../protocol/well-formed.js';
import { channelTopic, identityTopic, sumCounts, type BrokerMessage, type ChannelCount } from './broker.js';
import type { Channels } from './channels.js';
import type { CoreContext } from './core-context.js';
import { fanOut, type LocalChannels } from './local-channel.js';
import type { DirectRoutes, Evict } from './routing.js';
import type { ChannelInfo, DisconnectOptions, PresenceMember, ServerApi, UnsubscribeOptions } from './server-api-types.js';
import { ServerApiError } from './server-api-types.js';
import { outFrame, type Session } from './session.js';

/** What the server API needs from the core. */
export interface ServerApiParts {
  ctx: CoreContext;
  open: LocalChannels;
  routes: DirectRoutes;
  channels: Channels;
  evict: Evict;
  /** The core is shutting down: calls are refused. */
  stopping: () => boolean;
}

/** Keys of a payload the server sets itself. */
const SEND_RESERVED = ['from', 'to', 'id'] as const;
const PUBLISH_RESERVED = ['from', 'id', 'state'] as const;
/** Longest close reason, in bytes of UTF-8 (a WebSocket close frame's limit). */
const MAX_REASON_BYTES = 123;
const DISCONNECT_REASON = 'disconnected by the server';
const UNSUBSCRIBE_REASON = 'removed by the server';

export class CoreServerApi implements ServerApi {
  private readonly limits: Limits;

  constructor(private readonly p: ServerApiParts) {
    this.limits = p.ctx.limits;
  }

  async send(to: string, payload: Record<string, unknown>): Promise<void> {
    const addr = this.address(to, 'to');
    const frame = this.frame(METHOD.send, { ...checkPayload(payload, SEND_RESERVED), from: SERVER_FROM, to });
    const link = await this.linkNow();
    const local = this.p.routes.matching(addr);
    for (const s of local) s.write(frame, this.limits);
    // An exact endpoint held here is reached already; anything else may live on other nodes too.
    if (addr.route === undefined || local.length === 0) {
      await link.publish(identityTopic(addr.identity), { t: 'dm', to, from: SERVER_FROM, frame: frame.text });
    }
  }

  async publish(channel: string, payload: Record<string, unknown>): Promise<void> {
    this.channel(channel);
    const frame = this.frame(METHOD.publish, { ...checkPayload(payload, PUBLISH_RESERVED), id: channel, from: SERVER_FROM });
    const link = await this.linkNow();
    const c = this.p.open.get(channel);
    if (c) fanOut(c, frame, null, this.limits);
    await link.publish(channelTopic(channel), { t: 'pub', ch: channel, from: SERVER_FROM, frame: frame.text });
  }

  async presence(channel: string): Promise<PresenceMember[]> {
    this.channel(channel);
    const link = await this.linkNow();
    const out: PresenceMember[] = [];
    for (const m of await link.members(channel)) {
      const a = parseAddress(m.address, Infinity);
      if (m.unsure || !a || a.device === undefined) continue; // unsure: maybe gone (see RosterMember.unsure)
      out.push(m.state === undefined ? { address: m.address, identity: a.identity, device: a.device } : { address: m.address, identity: a.identity, device: a.device, state: m.state });
    }
    return out.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  }

  async channels(): Promise<ChannelInfo[]> {
    const link = await this.linkNow();
    return link.channels ? await link.channels() : sumCounts([this.localCounts()]);
  }

  async disconnect(target: string, options: DisconnectOptions = {}): Promise<void> {
    const addr = this.address(target, 'target');
    const code = options.code ?? CLOSE.DISCONNECTED;
    if (!validCloseCode(code)) throw new ServerApiError('invalid_field', 'code must be 1000 or an integer from 3000 to 4999');
    const reason = checkReason(options.reason, DISCONNECT_REASON);
    const link = await this.linkNow();
    this.kick(addr, code, reason);
    await link.publish(identityTopic(addr.identity), { t: 'kick', target, code, reason });
  }

  async unsubscribe(target: string, channel: string, options: UnsubscribeOptions = {}): Promise<void> {
    const addr = this.address(target, 'target');
    this.channel(channel);
    const reason = checkReason(options.reason, UNSUBSCRIBE_REASON);
    const link = await this.linkNow();
    this.unsub(addr, channel, reason);
    await link.publish(identityTopic(addr.identity), { t: 'unsub', target, ch: channel, reason });
  }

  /** A `kick` or `unsub` from another node's API: act on the sessions held here. */
  onMessage(msg: Extract<BrokerMessage, { t: 'kick' | 'unsub' }>): void {
    const addr = parseAddress(msg.target, this.limits.maxAddressLength);
    if (!addr || typeof msg.reason !== 'string') return;
    if (msg.t === 'kick') {
      if (validCloseCode(msg.code)) this.kick(addr, msg.code, msg.reason);
    } else if (typeof msg.ch === 'string') this.unsub(addr, msg.ch, msg.reason);
  }

  /** This node's channels with a local member, and their counts. */
  localCounts(): ChannelCount[] {
    const out: ChannelCount[] = [];
    for (const c of this.p.open.values()) {
      if (c.members.size === 0) continue;
      let presence = 0;
      for (const s of c.members.values()) if (s.presenceIn(c.name)) presence++;
      out.push({ name: c.name, members: c.members.size, presence });
    }
    return out;
  }

  private kick(addr: Address, code: number, reason: string): void {
    for (const s of this.p.routes.matching(addr)) if (!s.closed) this.p.evict(s, code, reason);
  }

  private unsub(addr: Address, channel: string, reason: string): void {
    const note = outFrame(encodeNotification(METHOD.unsubscribed, { id: channel, from: SERVER_FROM, reason }));
    for (const s of this.p.routes.matching(addr)) this.leave(s, channel, note);
  }

  /** Tell `s` it was removed (before its peers hear it leave), then remove it as a leave would. */
  private leave(s: Session, channel: string, note: ReturnType<typeof outFrame>): void {
    if (s.closed || !s.inChannel(channel)) return;
    s.write(note, this.limits);
    this.p.channels.leave(s, channel);
  }

  private address(value: unknown, field: string): Address {
    const a = parseAddress(value, this.limits.maxAddressLength);
    if (!a) {
      throw new ServerApiError('invalid_address', `${field} must be identity, identity/device or identity/device/route (well-formed, at most ${this.limits.maxAddressLength} characters)`);
    }
    if (a.identity === SERVER_FROM) throw new ServerApiError('invalid_address', `${field}: ${SERVER_FROM} is reserved`);
    return a;
  }

  private channel(name: unknown): void {
    const err = channelNameError(name, this.limits.maxChannelNameLength);
    if (err) throw new ServerApiError('invalid_channel', err);
  }

  /** The encoded frame, refused past `maxFrameBytes` (the limit a client's own frames have). */
  private frame(method: string, params: object): ReturnType<typeof outFrame> {
    let text: string;
    try {
      text = encodeNotification(method, params);
    } catch (e) {
      throw new ServerApiError('invalid_payload', `payload is not JSON: ${(e as Error).message}`);
    }
    if (utf8Longer(text, this.limits.maxFrameBytes)) {
      throw new ServerApiError('payload_too_large', `the message would be a frame over ${this.limits.maxFrameBytes} bytes`);
    }
    return outFrame(text);
  }

  private async linkNow() {
    if (this.p.stopping()) throw new ServerApiError('shutting_down', 'the server is shutting down');
    return this.p.ctx.link ?? (await this.p.ctx.linkP);
  }
}

/** A payload must be a plain JSON object without the keys the server sets. Returns it. */
function checkPayload(payload: unknown, reserved: readonly string[]): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new ServerApiError('invalid_payload', 'payload must be a JSON object');
  }
  const bad = reserved.filter((k) => Object.prototype.hasOwnProperty.call(payload, k));
  if (bad.length) throw new ServerApiError('invalid_payload', `payload must not set ${bad.join(', ')}: the server sets ${reserved.join(', ')}`);
  return payload as Record<string, unknown>;
}

/** A close code the API may send: 1000, or an application code 3000–4999 (WebSocket refuses the others). */
function validCloseCode(code: unknown): code is number {
  return Number.isInteger(code) && (code === 1000 || ((code as number) >= 3000 && (code as number) <= 4999));
}

function checkReason(reason: unknown, fallback: string): string {
  if (reason === undefined) return fallback;
  if (typeof reason !== 'string' || !isWellFormed(reason) || utf8Longer(reason, MAX_REASON_BYTES)) {
    throw new ServerApiError('invalid_field', `reason must be a well-formed string of at most ${MAX_REASON_BYTES} bytes of UTF-8`);
  }
  return reason;
}

/** Whether `text` is longer than `max` bytes of UTF-8 (encoded only when the length alone cannot tell). */
function utf8Longer(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}
