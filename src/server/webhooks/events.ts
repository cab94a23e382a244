/**
 * Webhook events: their names, payload shape and the transitions the membership trackers report. Pure types and a
 * builder, no Node imports (the transition trackers may run wherever the core runs).
 */

/** Every event a webhook can carry. `member.state` is off unless asked for. */
export const WEBHOOK_EVENTS = ['channel.occupied', 'channel.vacated', 'member.joined', 'member.left', 'member.state'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Why a member left: its `signal.leave`; its connection closed; its process died (found by a surviving one); or it
 * was replaced by a newer connection of its device (`replaces`) that did not rejoin the channel within the grace. */
export type LeaveReason = 'left' | 'disconnected' | 'lost' | 'replaced';

/** What each event's `data` holds. */
export interface WebhookEventData {
  'channel.occupied': { channel: string; endpoint: string };
  'channel.vacated': { channel: string; endpoint: string; reason: LeaveReason };
  'member.joined': { channel: string; identity: string; endpoint: string };
  'member.left': { channel: string; identity: string; endpoint: string; reason: LeaveReason };
  'member.state': { channel: string; identity: string; endpoint: string; state: unknown };
}

/**
 * One event. `id` is unique (a receiver drops duplicates by it: a retried batch carries the same ids); `seq` orders the
 * events of the whole cluster (one counter in Redis, or in the memory broker): sort by it to get one channel's events in
 * the order they happened even when they come from several processes (`member.state` has none). `seq` restarts after
 * Redis loses its data.
 */
export type WebhookEvent = {
  [K in WebhookEventType]: { id: string; type: K; timestamp: string; seq?: number; data: WebhookEventData[K] };
}[WebhookEventType];

/** The body of one webhook POST: one or more events, in the order they happened on the sending process. */
export interface WebhookPayload {
  events: WebhookEvent[];
}

/** A membership transition as a tracker reports it, before it becomes an event. */
export interface Transition {
  type: Exclude<WebhookEventType, 'member.state'>;
  channel: string;
  identity: string;
  endpoint: string;
  seq: number;
  reason?: LeaveReason;
}

/** Where trackers send transitions (in the order they happened). */
export type TransitionSink = (transitions: Transition[]) => void;

/** The identity of an endpoint address `identity/device/route`. */
export function identityOf(address: string): string {
  const a = address.indexOf('/');
  return a < 0 ? address : address.slice(0, a);
}

/** The route of an endpoint address (its last part); its first {@link NODE_ID_LENGTH} characters are its node's id. */
export function nodeOfAddress(address: string): string | undefined {
  const a = address.lastIndexOf('/');
  const route = address.slice(a + 1);
  return a < 0 || route.length <= NODE_ID_LENGTH ? undefined : route.slice(0, NODE_ID_LENGTH);
}

/** Length of a node id (`SignalCore.nodeId`, `randomId(6)`), which starts every route that node hands out. */
export const NODE_ID_LENGTH = 6;

/** The event for a transition (or a state), with a fresh unique id and the time now. */
export function toEvent(t: Transition | { type: 'member.state'; channel: string; identity: string; endpoint: string; state: unknown }): WebhookEvent {
  const base = { id: `evt_${globalThis.crypto.randomUUID().replace(/-/g, '')}`, timestamp: new Date().toISOString(), ...('seq' in t ? { seq: t.seq } : {}) };
  switch (t.type) {
    case 'channel.occupied':
      return { ...base, type: t.type, data: { channel: t.channel, endpoint: t.endpoint } };
    case 'channel.vacated':
      return { ...base, type: t.type, data: { channel: t.channel, endpoint: t.endpoint, reason: t.reason ?? 'left' } };
    case 'member.joined':
      return { ...base, type: t.type, data: { channel: t.channel, identity: t.identity, endpoint: t.endpoint } };
    case 'member.left':
      return { ...base, type: t.type, data: { channel: t.channel, identity: t.identity, endpoint: t.endpoint, reason: t.reason ?? 'left' } };
    case 'member.state':
      return { ...base, type: t.type, data: { channel: t.channel, identity: t.identity, endpoint: t.endpoint, state: t.state } };
  }
}
