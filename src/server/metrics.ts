/**
 * Prometheus metrics of one server (`GET /metrics`), through prom-client with a Registry of its own (two servers in
 * one process never clash). The hot path only bumps plain numbers ({@link Counters}, the core's stats); prom-client
 * reads them in `collect()` at scrape time. Per connection (opened, closed by code), per refusal and per slow-consumer
 * cut the counts are plain too. The two fan-out histograms are observed for one publish in 16 (sampled: their
 * `_count` is about a sixteenth of the publishes); the Redis round trip once per heartbeat.
 */
import { createRequire } from 'node:module';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SignalCore } from './core.js';
import { FRAME_KINDS, newCounters, type Counters } from './observer.js';
import type { EndpointStats } from './webhooks/delivery.js';

/** What the observer records besides {@link Counters}. */
export interface Metrics {
  readonly registry: Registry;
  readonly counters: Counters;
  opened(): void;
  closed(code: number): void;
  refused(code: number): void;
  slowConsumer(): void;
  fanOut(size: number, ms: number): void;
  brokerRoundTrip(ms: number): void;
  brokerReconnect(): void;
  /** The Prometheus text of every metric. */
  scrape(): Promise<string>;
}

/**
 * prom-client's default metrics left out: `gc` (a PerformanceObserver on every garbage collection: with it, two runs
 * of the bench row "metrics on vs off" measured 15% and 22% more server CPU per delivery, without it 4% and 7%), and
 * `processHandles`, `processResources` (each scrape lists every handle: one per socket, so O(connections) work per
 * scrape; `signal_sockets` counts them instead).
 */
const LEFT_OUT = new Set(['gc', 'processHandles', 'processResources']);

/**
 * prom-client's default process metrics (CPU, memory, heap spaces, file descriptors, event-loop lag, version) but
 * {@link LEFT_OUT}, taken from prom-client's own list; if its layout ever differs, all of its defaults are registered.
 */
function defaultMetrics(registry: Registry): void {
  type Register = (registry: Registry, config: object) => void;
  let parts: Register[];
  try {
    const req = createRequire(import.meta.url);
    const list = (req('prom-client/lib/defaultMetrics.js') as { metricsList: string[] }).metricsList;
    parts = list.filter((m) => !LEFT_OUT.has(m)).map((m) => req(`prom-client/lib/metrics/${m}.js`) as Register);
    if (!parts.every((p) => typeof p === 'function')) throw new Error('unexpected prom-client layout');
  } catch {
    return collectDefaultMetrics({ register: registry });
  }
  for (const register of parts) register(registry, { eventLoopMonitoringPrecision: 10 });
}

/** The process's default metrics, one set per process (they describe the process; servers in it share them). */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    defaultMetrics(processRegistry);
  }
  return processRegistry;
}

/** A counter fed at scrape time from a plain number: increments by what it grew since the last scrape. */
function counterFrom(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = v;
    },
  });
}

/** A labelled counter fed at scrape time from plain counts by label value. */
function countersFrom(registry: Registry, name: string, help: string, label: string, read: () => Iterable<[string, number]>): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [k, v] of read()) {
        const was = last.get(k) ?? 0;
        if (v > was) this.labels(k).inc(v - was);
        last.set(k, v);
      }
    },
  });
}

/**
 * Metrics of the core `coreOf` returns (read at scrape time only), in a registry of their own merged with the
 * process's default metrics and event-loop lag (made once per process: two servers in one process never clash, and
 * never start two event-loop monitors).
 */
export function createMetrics(coreOf: () => SignalCore, sockets: () => number, webhooks: () => EndpointStats[] = () => []): Metrics {
  const own = new Registry();
  const counters = newCounters();
  const closedBy = new Map<string, number>();
  const refusedBy = new Map<string, number>();
  let opened = 0;
  let slow = 0;
  let reconnects = 0;
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

  new Gauge({ name: 'signal_connections', help: 'open WebSocket connections (accepted)', registers: [own], collect() {
    this.set(coreOf().stats().connections);
  } });
  new Gauge({ name: 'signal_sockets', help: 'open sockets, accepted or being refused', registers: [own], collect() {
    this.set(sockets());
  } });
  new Gauge({ name: 'signal_channels', help: 'channels with a member on this process', registers: [own], collect() {
    this.set(coreOf().stats().channels);
  } });
  new Gauge({ name: 'signal_presence_members', help: 'presence members in the rosters of the channels held here', registers: [own], collect() {
    this.set(coreOf().presenceMembers());
  } });
  counterFrom(own, 'signal_connections_opened_total', 'connections accepted', () => opened);
  countersFrom(own, 'signal_connections_closed_total', 'connections closed, by WebSocket close code', 'code', () => closedBy);
  countersFrom(own, 'signal_frames_in_total', 'frames received, by method (ping: _ping, invalid: not a call)', 'method', () =>
    FRAME_KINDS.map((k, i) => [k, counters.framesIn[i]!] as [string, number]).filter(([, v]) => v > 0),
  );
  countersFrom(own, 'signal_frames_out_total', 'frames written to sockets, by method', 'method', () =>
    FRAME_KINDS.map((k, i) => [k, counters.framesOut[i]!] as [string, number]).filter(([, v]) => v > 0),
  );
  counterFrom(own, 'signal_bytes_in_total', 'bytes of frames received (payload)', () => counters.bytesIn);
  counterFrom(own, 'signal_bytes_out_total', 'bytes of frames written to sockets (payload characters: bytes for ASCII JSON)', () => counters.bytesOut);
  countersFrom(own, 'signal_refusals_total', 'calls refused, by JSON-RPC error code', 'code', () => refusedBy);
  counterFrom(own, 'signal_slow_consumer_cuts_total', 'connections dropped as slow consumers', () => slow);
  counterFrom(own, 'signal_broker_reconnects_total', 'times the broker link came back after being down', () => reconnects);
  // Webhooks, summed over the URLs (a URL is no label: it may carry a token in its query).
  const hooks = (k: 'sent' | 'dropped' | 'failed' | 'retries' | 'queued'): number => webhooks().reduce((n, e) => n + e[k], 0);
  countersFrom(own, 'signal_webhook_events_total', 'webhook events by outcome: sent (2xx), dropped (queue full), failed (given up)', 'outcome', () => [
    ['sent', hooks('sent')],
    ['dropped', hooks('dropped')],
    ['failed', hooks('failed')],
  ]);
  counterFrom(own, 'signal_webhook_retries_total', 'webhook POSTs retried', () => hooks('retries'));
  new Gauge({ name: 'signal_webhook_queued', help: 'webhook events waiting to be sent', registers: [own], collect() {
    this.set(hooks('queued'));
  } });
  const fanOutSize = new Histogram({
    name: 'signal_fanout_size',
    help: 'local members a publish is written to (sampled: one publish in 16)',
    buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [own],
  });
  const fanOutSeconds = new Histogram({
    name: 'signal_fanout_seconds',
    help: 'from receipt of a publish to the last socket write of its fan-out (sampled: one publish in 16)',
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [own],
  });
  const brokerSeconds = new Histogram({
    name: 'signal_broker_roundtrip_seconds',
    help: 'round trip of a broker command (the Redis heartbeat write)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [own],
  });

  const registry = Registry.merge([processMetrics(), own]);
  return {
    registry,
    counters,
    opened: () => void opened++,
    closed: (code) => bump(closedBy, String(code)),
    refused: (code) => bump(refusedBy, String(code)),
    slowConsumer: () => void slow++,
    fanOut(size, ms) {
      fanOutSize.observe(size);
      fanOutSeconds.observe(ms / 1000);
    },
    brokerRoundTrip: (ms) => brokerSeconds.observe(ms / 1000),
    brokerReconnect: () => void reconnects++,
    scrape: () => registry.metrics(),
  };
}
