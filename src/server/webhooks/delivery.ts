/**
 * Delivery of webhook events to one endpoint: a bounded queue (events and bytes; overflow drops the oldest, counted
 * and reported), batches (up to `maxBatch` events or `maxBatchBytes`, after at most `batchDelayMs`), one POST in
 * flight at a time (so events keep their order, per channel and overall), each with a timeout, retried with
 * exponential backoff and full jitter on network errors, timeouts, 408, 429 and 5xx (never on another 4xx), up to
 * `maxAttempts`. Endpoints are independent: a hung one never holds another.
 */
import type { Webhook } from 'standardwebhooks';
import type { WebhookEvent } from './events.js';
import { signHeaders } from './signing.js';

/** Delivery settings (every endpoint has its own queue with these bounds). */
export interface DeliveryOptions {
  /** Events per POST at most. @default 100 */
  maxBatch: number;
  /** Bytes of a POST body at most (one bigger event goes alone). @default 262144 */
  maxBatchBytes: number;
  /** How long the first queued event waits for others before a POST. @default 50 */
  batchDelayMs: number;
  /** Events queued per endpoint at most; past it the oldest are dropped (counted in `dropped`). @default 10000 */
  maxQueue: number;
  /** Bytes of queued events per endpoint at most (same rule). @default 16777216 */
  maxQueueBytes: number;
  /** A POST with no answer by then is aborted and retried. @default 10000 */
  timeoutMs: number;
  /** Tries per batch (the first included); then it is dropped (counted in `failed`). @default 8 */
  maxAttempts: number;
  /** First retry delay; doubled each time, with full jitter. @default 500 */
  retryBaseMs: number;
  /** Longest retry delay. @default 30000 */
  retryMaxMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  maxBatch: 100,
  maxBatchBytes: 256 * 1024,
  batchDelayMs: 50,
  maxQueue: 10_000,
  maxQueueBytes: 16 * 1024 * 1024,
  timeoutMs: 10_000,
  maxAttempts: 8,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
};

/** Counters of one endpoint. */
export interface EndpointStats {
  url: string;
  /** Events waiting (not counting the batch in flight). */
  queued: number;
  queuedBytes: number;
  /** Events delivered (a 2xx answer). */
  sent: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events given up on (a 4xx other than 408/429, or `maxAttempts` tries, or still queued at close). */
  failed: number;
  /** POSTs retried. */
  retries: number;
  /** POSTs made (first tries and retries). */
  posts: number;
}

/** One endpoint's queue and sender. */
export class Endpoint {
  private queue: string[] = [];
  private head = 0;
  private bytes = 0;
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly abort = new AbortController();
  private lastWarn = 0;
  private droppedSinceWarn = 0;
  readonly stats: EndpointStats;

  constructor(
    readonly url: string,
    private readonly key: Webhook,
    private readonly o: DeliveryOptions,
    private readonly warn: (message: string) => void,
  ) {
    this.stats = { url, queued: 0, queuedBytes: 0, sent: 0, dropped: 0, failed: 0, retries: 0, posts: 0 };
  }

  /** Queue events (already in order); the oldest go when the queue is full. */
  enqueue(events: WebhookEvent[]): void {
    if (this.closing) return;
    for (const ev of events) {
      const text = JSON.stringify(ev);
      this.queue.push(text);
      this.bytes += text.length;
    }
    let dropped = 0;
    while (this.length > this.o.maxQueue || (this.bytes > this.o.maxQueueBytes && this.length > 0)) {
      this.bytes -= this.queue[this.head]!.length;
      this.queue[this.head++] = '';
      dropped++;
    }
    if (dropped) this.noteDropped(dropped);
    this.compact();
    this.update();
    this.schedule();
  }

  /** Deliver what is queued (bounded by `ms`), then stop; what is left counts as failed. */
  async close(ms: number): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.busy) void this.pump();
    const deadline = Date.now() + ms;
    while ((this.busy || this.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.abort.abort();
    if (this.length) {
      this.stats.failed += this.length;
      this.warn(`webhook ${this.url}: ${this.length} events not delivered at shutdown`);
      this.queue = [];
      this.head = 0;
      this.bytes = 0;
      this.update();
    }
  }

  private get length(): number {
    return this.queue.length - this.head;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private update(): void {
    this.stats.queued = this.length;
    this.stats.queuedBytes = this.bytes;
  }

  private noteDropped(n: number): void {
    this.stats.dropped += n;
    this.droppedSinceWarn += n;
    const now = Date.now();
    if (now - this.lastWarn >= 10_000) {
      this.warn(`webhook ${this.url}: queue full (${this.o.maxQueue} events / ${this.o.maxQueueBytes} bytes), dropped ${this.droppedSinceWarn} oldest events (${this.stats.dropped} in all)`);
      this.lastWarn = now;
      this.droppedSinceWarn = 0;
    }
  }

  private schedule(): void {
    if (this.busy || this.timer || this.length === 0) return;
    if (this.length >= this.o.maxBatch || this.closing) return void this.pump();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pump();
    }, this.o.batchDelayMs);
    this.timer.unref();
  }

  /** Send batches while events are queued, one POST at a time. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.length > 0 && !this.abort.signal.aborted) {
        const batch = this.take();
        await this.deliver(batch);
        if (!this.closing && this.length > 0 && this.length < this.o.maxBatch) break; // wait for more (schedule)
      }
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /** The next batch, out of the queue. */
  private take(): string[] {
    const out: string[] = [];
    let size = 12;
    while (this.length > 0 && out.length < this.o.maxBatch) {
      const text = this.queue[this.head]!;
      if (out.length > 0 && size + text.length + 1 > this.o.maxBatchBytes) break;
      out.push(text);
      size += text.length + 1;
      this.bytes -= text.length;
      this.queue[this.head++] = '';
    }
    this.compact();
    this.update();
    return out;
  }

  /** POST one batch until it is accepted, refused for good, or out of tries. */
  private async deliver(batch: string[]): Promise<void> {
    const body = `{"events":[${batch.join(',')}]}`;
    const msgId = `msg_${globalThis.crypto.randomUUID().replace(/-/g, '')}`;
    for (let attempt = 1; ; attempt++) {
      this.stats.posts++;
      let status = 0;
      let retryAfter: string | null = null;
      let error = '';
      // One controller per POST: its timeout, or close(), aborts it (no AbortSignal.any: Node 18 lacks it).
      const ctl = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => ((timedOut = true), ctl.abort()), this.o.timeoutMs);
      const onClose = (): void => ctl.abort();
      this.abort.signal.addEventListener('abort', onClose);
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'react-signal-service-webhooks', ...signHeaders(this.key, msgId, body) },
          body,
          redirect: 'manual',
          signal: ctl.signal,
        });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        await res.body?.cancel().catch(() => {});
      } catch (e) {
        error = timedOut ? `no answer within ${this.o.timeoutMs} ms` : String((e as Error)?.message ?? e);
      } finally {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', onClose);
      }
      if (status >= 200 && status < 300) {
        this.stats.sent += batch.length;
        return;
      }
      const retriable = status === 0 || status === 408 || status === 429 || status >= 500;
      if (!retriable || attempt >= this.o.maxAttempts || this.abort.signal.aborted) {
        this.stats.failed += batch.length;
        this.warn(`webhook ${this.url}: ${batch.length} events dropped after ${attempt} tries (${status ? `HTTP ${status}` : error})`);
        return;
      }
      this.stats.retries++;
      const cap = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (attempt - 1));
      const told = retryAfter !== null && /^\d+$/.test(retryAfter) ? Math.min(this.o.retryMaxMs, Number(retryAfter) * 1000) : 0;
      const wait = Math.max(told, Math.random() * cap);
      await new Promise<void>((r) => {
        const done = (): void => {
          clearTimeout(t);
          this.abort.signal.removeEventListener('abort', done);
          r();
        };
        const t = setTimeout(done, this.closing ? Math.min(wait, 200) : wait);
        t.unref();
        this.abort.signal.addEventListener('abort', done);
      });
    }
  }
}
