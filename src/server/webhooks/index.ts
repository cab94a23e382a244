/**
 * Webhooks: the server POSTs membership events to the app's backend, signed per Standard Webhooks. This file wires
 * the parts: the tracker (the core's membership hooks), the transition store that fits the broker (memory or Redis),
 * and one delivery queue per URL.
 */
import type { Broker } from '../broker.js';
import { MemoryBroker } from '../broker.js';
import { RedisBroker } from '../redis-broker.js';
import { DEFAULT_DELIVERY, Endpoint, type DeliveryOptions, type EndpointStats } from './delivery.js';
import { toEvent, WEBHOOK_EVENTS, type WebhookEvent, type WebhookEventType } from './events.js';
import { RedisTransitionStore } from './redis-transitions.js';
import { webhookKey } from './signing.js';
import { MemoryTransitionStore, memoryCountsOf, WebhookTracker, type TransitionStore } from './transitions.js';

export { verifyWebhook, type VerifyWebhookOptions, type VerifyWebhookResult } from './signing.js';
export type { WebhookEvent, WebhookEventType, WebhookEventData, WebhookPayload, LeaveReason } from './events.js';
export type { DeliveryOptions, EndpointStats } from './delivery.js';

/** `createSignalServer({ webhook })`: where to POST events, and how (with the queue, batch and retry settings of
 * {@link DeliveryOptions}, each endpoint having its own queue). */
export interface WebhookOptions extends Partial<DeliveryOptions> {
  /** Endpoints (http or https URLs); every event goes to each. */
  urls: string[];
  /** Signing secret: Standard Webhooks' `whsec_<base64>` form, or any other string (its UTF-8 bytes are the key). */
  secret: string;
  /** Also send `member.state` (each state a presence member sets). @default false */
  state?: boolean;
  /** The events to send. @default every event but `member.state` (plus it with `state: true`) */
  events?: WebhookEventType[];
  /** How long a replaced endpoint (`replaces`) stays a member while its successor rejoins. @default 5000 */
  replaceGraceMs?: number;
  /** Delivery problems (dropped events, failed POSTs) and store errors. @default console.warn */
  onWarning?: (message: string) => void;
}

/** A server's webhooks: its membership hooks, and the senders. */
export class Webhooks {
  readonly hooks: WebhookTracker;
  private readonly endpoints: Endpoint[];
  private readonly events: Set<WebhookEventType>;
  private readonly store: TransitionStore;
  private readonly warn: (message: string) => void;

  constructor(options: WebhookOptions, broker: Broker | undefined) {
    checkOptions(options);
    this.warn = options.onWarning ?? ((m) => console.warn(m));
    const key = webhookKey(options.secret);
    const delivery = { ...DEFAULT_DELIVERY };
    for (const k of Object.keys(DEFAULT_DELIVERY) as (keyof DeliveryOptions)[]) if (options[k] !== undefined) delivery[k] = options[k]!;
    this.endpoints = options.urls.map((url) => new Endpoint(url, key, delivery, this.warn));
    this.events = new Set(options.events ?? WEBHOOK_EVENTS.filter((e) => e !== 'member.state' || options.state === true));
    this.store = storeFor(broker, (e) => this.warn(`webhooks: Redis: ${e.message}`));
    this.hooks = new WebhookTracker(this.store, { state: this.events.has('member.state'), replaceGraceMs: options.replaceGraceMs ?? 5000 }, (evs) => this.send(evs));
  }

  /** Start counting for the node `nodeId` (the core's). */
  start(nodeId: string): Promise<void> {
    return this.store.start(nodeId, (ts) => this.send(ts.map(toEvent)));
  }

  /** Counters per endpoint. */
  stats(): EndpointStats[] {
    return this.endpoints.map((e) => ({ ...e.stats }));
  }

  /** Stop: held members leave, then queued events are delivered for up to `ms` (what is left counts as failed). */
  async close(ms = 3000): Promise<void> {
    await this.store.close();
    await Promise.all(this.endpoints.map((e) => e.close(ms)));
  }

  private send(events: WebhookEvent[]): void {
    const wanted = events.filter((e) => this.events.has(e.type));
    if (wanted.length) for (const e of this.endpoints) e.enqueue(wanted);
  }
}

/** The store that counts across the broker's nodes. */
function storeFor(broker: Broker | undefined, onError: (e: Error) => void): TransitionStore {
  if (broker === undefined) return new MemoryTransitionStore(memoryCountsOf({}));
  if (broker instanceof MemoryBroker) return new MemoryTransitionStore(memoryCountsOf(broker));
  if (broker instanceof RedisBroker) return new RedisTransitionStore(broker.options, onError); // loads ioredis in start()
  throw new TypeError('webhooks count members across nodes through a MemoryBroker or a RedisBroker; this broker is neither');
}

function checkOptions(o: WebhookOptions): void {
  if (!o || !Array.isArray(o.urls) || o.urls.length === 0) throw new TypeError('webhook.urls must list at least one http(s) URL');
  for (const u of o.urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new TypeError(`webhook URL ${JSON.stringify(u)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`webhook URL ${JSON.stringify(u)} must be http or https`);
  }
  if (typeof o.secret !== 'string' || !o.secret) throw new TypeError('webhook.secret is required (whsec_<base64> or a string)');
  for (const e of o.events ?? []) if (!(WEBHOOK_EVENTS as readonly string[]).includes(e)) throw new TypeError(`unknown webhook event ${JSON.stringify(e)}`);
}
