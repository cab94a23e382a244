/**
 * The Node server's observer: the core's hooks (observer.ts) and the transport's events turned into log lines
 * (log.ts) and metrics (metrics.ts). Every line carries an `event` name (listed in README, "Logs"); none carries a
 * token, a secret or a payload.
 */
import { CLOSE } from '../protocol/constants.js';
import type { FrameError } from '../protocol/frames.js';
import { RefusalSampler, type Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { CoreObserver, Session } from './observer.js';

const who = (s: Session): { identity: string; device: string; route: string } => ({ identity: s.identity, device: s.device, route: s.route });

export class ServerObserver implements CoreObserver {
  /** When each connection was accepted (only while logging: for the duration in its closed line). */
  private readonly since = new WeakMap<Session, number>();
  private readonly sampler = new RefusalSampler<Session>();
  /** Whether the broker was up once already (so the next up is "back"). */
  private brokerSeen = false;

  constructor(
    private readonly log: Logger | null,
    private metrics: Metrics | null,
  ) {}

  /** Metrics are made after the core (they read it), the observer before: set them here. */
  setMetrics(metrics: Metrics | null): void {
    this.metrics = metrics;
  }

  connected(s: Session): void {
    this.metrics?.opened();
    if (!this.log) return;
    this.since.set(s, Date.now());
    this.log.info({ event: 'connection.accepted', ...who(s) }, 'connection accepted');
  }

  /** The socket of an accepted connection closed with `code` (the transport tells). */
  disconnected(s: Session, code: number): void {
    this.metrics?.closed(code);
    if (!this.log) return;
    const since = this.since.get(s);
    this.since.delete(s);
    const { refusals, suppressed } = this.sampler.end(s);
    this.log.info(
      { event: 'connection.closed', ...who(s), code, durationMs: since === undefined ? undefined : Date.now() - since, ...(refusals ? { refusals, suppressed } : {}) },
      'connection closed',
    );
  }

  refused(s: Session, err: FrameError): void {
    this.metrics?.refused(err.code);
    if (!this.log) return;
    const { log, summary } = this.sampler.take(s);
    if (summary > 0) this.log.info({ event: 'call.refused.suppressed', ...who(s), count: summary }, `${summary} more refusals of this connection not logged`);
    if (log) this.log.info({ event: 'call.refused', ...who(s), code: err.code, method: err.method, channel: err.channel }, 'call refused');
  }

  closing(s: Session, code: number, reason: string): void {
    if (!this.log) return;
    if (code === CLOSE.FLOOD) this.log.warn({ event: 'connection.flood', ...who(s), code }, 'connection closed: flood');
    else if (code === CLOSE.UNAUTHORIZED) this.log.warn({ event: 'connection.unauthorized', ...who(s), code, reason }, `connection closed: ${reason}`);
    else if (code === CLOSE.TOO_LARGE) this.log.warn({ event: 'connection.too_large', ...who(s), code }, 'connection closed: frame too large');
    else this.log.debug({ event: 'connection.closing', ...who(s), code, reason }, `closing connection: ${reason}`);
  }

  slowConsumer(s: Session, bufferedBytes: number): void {
    this.metrics?.slowConsumer();
    this.log?.warn({ event: 'connection.slow_consumer', ...who(s), bufferedBytes }, 'slow consumer dropped');
  }

  broker(up: boolean): void {
    if (up && this.brokerSeen) this.metrics?.brokerReconnect();
    if (up) this.log?.info({ event: this.brokerSeen ? 'broker.back' : 'broker.connected' }, this.brokerSeen ? 'broker back' : 'broker connected');
    else this.log?.warn({ event: 'broker.lost' }, 'broker connection lost');
    if (up) this.brokerSeen = true;
  }

  brokerRoundTrip(ms: number): void {
    this.metrics?.brokerRoundTrip(ms);
  }

  fanOut(size: number, ms: number): void {
    this.metrics?.fanOut(size, ms);
  }

  /** A connection refused at the door: an HTTP status before the upgrade, or a close code right after it. */
  turnedAway(what: { status?: number; code?: number; reason: string; identity?: string; device?: string; origin?: string }): void {
    if (what.code !== undefined) this.metrics?.closed(what.code);
    if (!this.log) return;
    const line = { event: 'connection.refused', ...what };
    if (what.code === CLOSE.UNAUTHORIZED) this.log.warn(line, `connection refused: ${what.reason}`);
    else this.log.info(line, `connection refused: ${what.reason}`);
  }

  /** Anything else worth a line (listening, drain start and end, faults). */
  note(level: 'info' | 'warn' | 'error', event: string, fields: object, msg: string): void {
    this.log?.[level]({ event, ...fields }, msg);
  }
}
