/**
 * Standard Webhooks signing and verification (the `standardwebhooks` package): `webhook-id`, `webhook-timestamp`
 * (seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). A secret in the
 * `whsec_<base64>` form is the key's bytes in base64; any other string is used as the key's UTF-8 bytes.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { WebhookEvent, WebhookPayload } from './events.js';
import { WEBHOOK_EVENTS } from './events.js';

/** The Standard Webhooks signer/verifier for a secret (`whsec_…` base64, or a plain string). */
export function webhookKey(secret: string): Webhook {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('a webhook secret must be a non-empty string');
  if (secret.startsWith('whsec_')) return new Webhook(secret);
  return new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
}

/** The headers of one signed POST. */
export function signHeaders(key: Webhook, msgId: string, body: string, now: Date = new Date()): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': key.sign(msgId, now, body),
  };
}

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Timestamps further than this from now (either way) are refused, in seconds (at most 300). @default 300 */
  toleranceSec?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/** What {@link verifyWebhook} returns. */
export type VerifyWebhookResult =
  | { ok: true; id: string; events: WebhookEvent[] }
  | { ok: false; error: 'missing-headers' | 'bad-timestamp' | 'old-timestamp' | 'future-timestamp' | 'bad-signature' | 'bad-payload'; message: string };

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null };

/**
 * Verify a webhook POST from this server: the signature (constant time, by `standardwebhooks`), the timestamp (within
 * `toleranceSec` of now, so a captured request cannot be replayed later) and the payload's shape. Pass the raw body
 * exactly as received (a re-serialized JSON would not match), and the request's headers (node's `req.headers`, or a
 * fetch `Headers`). Never throws.
 *
 * @example
 * ```ts
 * const r = verifyWebhook(body, req.headers, process.env.SIGNAL_WEBHOOK_SECRET!);
 * if (!r.ok) return res.writeHead(401).end(r.message);
 * for (const ev of r.events) if (ev.type === 'member.left') console.log(ev.data.identity, 'left', ev.data.channel);
 * ```
 */
export function verifyWebhook(body: string | Uint8Array, headers: Headers, secret: string, options: VerifyWebhookOptions = {}): VerifyWebhookResult {
  const get = (name: string): string | undefined => {
    if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
    const h = headers as Record<string, string | string[] | undefined>;
    const v = h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = get('webhook-id');
  const ts = get('webhook-timestamp');
  const sig = get('webhook-signature');
  if (!id || !ts || !sig) return { ok: false, error: 'missing-headers', message: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, error: 'bad-timestamp', message: 'webhook-timestamp must be Unix seconds' };
  const tolerance = Math.min(300, Math.max(0, options.toleranceSec ?? 300));
  const age = Math.floor((options.now ?? Date.now)() / 1000) - Number(ts);
  if (age > tolerance) return { ok: false, error: 'old-timestamp', message: `webhook-timestamp is ${age} s old (tolerance ${tolerance} s)` };
  if (-age > tolerance) return { ok: false, error: 'future-timestamp', message: `webhook-timestamp is ${-age} s ahead (tolerance ${tolerance} s)` };
  let key: Webhook;
  try {
    key = webhookKey(secret);
  } catch (e) {
    return { ok: false, error: 'bad-signature', message: (e as Error).message };
  }
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let parsed: unknown;
  try {
    // The library checks the timestamp against its own clock and 5 minutes too; ours above is the stricter one.
    parsed = key.verify(text, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig });
  } catch (e) {
    if (e instanceof WebhookVerificationError && /timestamp/i.test(e.message)) return { ok: false, error: 'old-timestamp', message: e.message };
    if (e instanceof SyntaxError) return { ok: false, error: 'bad-payload', message: 'body is not JSON' };
    return { ok: false, error: 'bad-signature', message: (e as Error).message || 'no matching signature' };
  }
  const events = (parsed as Partial<WebhookPayload> | null)?.events;
  if (!Array.isArray(events) || !events.every(isEvent)) return { ok: false, error: 'bad-payload', message: 'body is not {events: [...]}' };
  return { ok: true, id, events };
}

function isEvent(e: unknown): e is WebhookEvent {
  if (typeof e !== 'object' || e === null) return false;
  const v = e as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.type === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(v.type) && typeof v.data === 'object' && v.data !== null;
}
