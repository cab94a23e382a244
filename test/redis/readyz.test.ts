/**
 * Readiness over a real `redis-server` (issue 13): `serve --redis` started while Redis is down answers /readyz 503
 * ("broker disconnected") until Redis comes up, 200 then; Redis stopped: 503 again and a `broker.lost` log line;
 * Redis back: 200, `broker.back`, and the reconnect and round-trip metrics moved. /healthz stays 200 throughout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, serve, stop } from '../cli/run.js';
import { countOf, scrape, valueOf } from '../helpers/prom.js';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServer } from './helpers.js';

const SECRET = 'readyz-test-secret-0123456789abcdefghij';
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  killAll();
  await redis?.kill();
});
afterEach(() => killAll());

async function readyz(url: string): Promise<{ status: number; body: { ready: boolean; reason: string } }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as { ready: boolean; reason: string } };
}

/** Poll an async check every 50 ms until it holds (bounded). */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const logLines = (out: string): Record<string, unknown>[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('/readyz follows the broker', () => {
  it('503 while Redis is down (at start and after a stop), 200 when it is up; logs and metrics say so', { timeout: 90_000 }, async () => {
    await redis.stop();
    const srv = await serve(['serve', '--port', '0', '--redis', redis.url, '--redis-ready-timeout-ms', '300', '--redis-ttl-ms', '3000', '--secret', SECRET, '--log-format', 'json']);
    try {
      expect(await readyz(srv.url)).toEqual({ status: 503, body: { ready: false, reason: 'broker disconnected' } });
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);

      await redis.start();
      await until(async () => (await readyz(srv.url)).status === 200, 20_000, '/readyz 200 once Redis is up');
      expect((await readyz(srv.url)).body).toEqual({ ready: true, reason: 'ready' });
      expect(logLines(srv.out()).filter((l) => String(l.event).startsWith('broker.')).map((l) => l.event)).toEqual(['broker.connected']);

      await redis.stop();
      await until(async () => (await readyz(srv.url)).status === 503, 20_000, '/readyz 503 once Redis is stopped');
      expect((await readyz(srv.url)).body.reason).toBe('broker disconnected');
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
      await waitFor(() => logLines(srv.out()).some((l) => l.event === 'broker.lost'), 10_000, 'broker.lost logged');

      await redis.start();
      await until(async () => (await readyz(srv.url)).status === 200, 20_000, '/readyz 200 once Redis is back');
      await waitFor(() => logLines(srv.out()).some((l) => l.event === 'broker.back'), 10_000, 'broker.back logged');
      const lost = logLines(srv.out()).find((l) => l.event === 'broker.lost')!;
      expect(lost.level).toBe(40);
      // A heartbeat (every ttl/3 = 1 s) measures the round trip.
      await until(async () => countOf((await scrape(srv.url)).families, 'signal_broker_roundtrip_seconds') > 0, 10_000, 'a round trip measured');
      expect(valueOf((await scrape(srv.url)).families, 'signal_broker_reconnects_total')).toBe(1);
      expect(srv.out()).not.toContain(SECRET);
    } finally {
      if (!redis.running) await redis.start();
      await stop(srv);
    }
  });
});
