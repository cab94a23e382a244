/**
 * Webhooks in one process (memory broker): real servers on port 0, real WebSocket clients, a real HTTP receiver that
 * verifies every POST. Exactly one event per transition, `replaces` without a left/joined pair, presence changes
 * without events, retries after a 500, a bounded queue behind a receiver that never answers, and the signature checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createSignalServer, MemoryBroker, verifyWebhook, type SignalServer, type WebhookOptions } from '../../src/server/index.js';
import { Raw, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { scrape, valueOf } from '../helpers/prom.js';

const SECRET = 'webhooks-test-token-secret-0123456789';
const HOOK_SECRET = 'whsec_' + Buffer.from('a webhook signing key of 32 bytes!').toString('base64');

const servers: SignalServer[] = [];
const receivers: Receiver[] = [];
const clients: Raw[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.kill();
  for (const s of servers.splice(0)) await s.close();
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(respond?: (n: number) => number | 'hang'): Promise<Receiver> {
  const r = await startReceiver(HOOK_SECRET, respond);
  receivers.push(r);
  return r;
}

async function server(hook: Partial<WebhookOptions> & { urls: string[] }, broker?: MemoryBroker): Promise<{ srv: SignalServer; url: string }> {
  const srv = createSignalServer({ secret: SECRET, ...(broker ? { broker } : {}), webhook: { secret: HOOK_SECRET, batchDelayMs: 10, onWarning: () => {}, ...hook } });
  servers.push(srv);
  const { url } = await srv.listen(0, '127.0.0.1');
  return { srv, url };
}

async function client(url: string, identity: string, device: string, replaces?: string): Promise<Raw> {
  const c = await Raw.connect(url, SECRET, identity, device, replaces);
  clients.push(c);
  return c;
}

const types = (r: Receiver, ch: string): string[] => r.events.filter((e) => e.data.channel === ch).map((e) => `${e.type}${'identity' in e.data ? ` ${e.data.identity}` : ''}`);

describe('webhooks, one process', () => {
  it('one member.joined for two devices of one identity, one member.left and channel.vacated when the last goes', async () => {
    const rec = await receiver();
    const { url } = await server({ urls: [rec.url] });
    const a1 = await client(url, 'alice', 'phone');
    const a2 = await client(url, 'alice', 'laptop');
    const b = await client(url, 'bob', 'web');
    await a1.join('room');
    await a2.join('room', false); // presence or not, a joined endpoint is a member
    await b.join('room');
    await waitFor(() => rec.events.length >= 3, 5000, 'occupied + 2 joined');
    await a1.leave('room');
    b.kill();
    await waitFor(() => rec.of('member.left').length >= 1, 5000, 'bob left');
    a2.close();
    await waitFor(() => rec.of('channel.vacated').length === 1, 5000, 'vacated');
    await sleep(200);
    expect(types(rec, 'room')).toEqual(['channel.occupied', 'member.joined alice', 'member.joined bob', 'member.left bob', 'member.left alice', 'channel.vacated']);
    const joined = rec.of('member.joined')[0]!;
    expect(joined.data).toEqual({ channel: 'room', identity: 'alice', endpoint: a1.address });
    const left = rec.events.filter((e) => e.type === 'member.left');
    expect(left.map((e) => 'reason' in e.data && e.data.reason)).toEqual(['disconnected', 'disconnected']);
    // seq orders the events; ids are unique
    const seqs = rec.events.map((e) => e.seq!);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(rec.events.map((e) => e.id)).size).toBe(rec.events.length);
    expect(rec.invalid).toBe(0);
  });

  it('exactly once across two servers on one MemoryBroker', async () => {
    const rec = await receiver();
    const broker = new MemoryBroker();
    const s1 = await server({ urls: [rec.url] }, broker);
    const s2 = await server({ urls: [rec.url] }, broker);
    const a = await client(s1.url, 'alice', 'phone');
    const a2 = await client(s2.url, 'alice', 'desk');
    await a.join('r');
    await a2.join('r');
    await a.leave('r');
    await a2.leave('r');
    await waitFor(() => rec.of('channel.vacated').length === 1, 5000, 'vacated');
    await sleep(200);
    expect(types(rec, 'r')).toEqual(['channel.occupied', 'member.joined alice', 'member.left alice', 'channel.vacated']);
    expect(rec.events.find((e) => e.type === 'member.left')!.data).toMatchObject({ endpoint: a2.address, reason: 'left' });
  });

  it('a presence change is no membership change; member.state only when asked', async () => {
    const rec = await receiver();
    const { url } = await server({ urls: [rec.url], state: true });
    const a = await client(url, 'alice', 'phone');
    await a.join('room', false);
    await a.join('room', true); // presence changed: a rejoin on the wire
    a.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'room', state: { typing: true } } }));
    await waitFor(() => rec.of('member.state').length === 1, 5000, 'state');
    await a.leave('room');
    await waitFor(() => rec.of('channel.vacated').length === 1, 5000, 'vacated');
    expect(types(rec, 'room')).toEqual(['channel.occupied', 'member.joined alice', 'member.state alice', 'member.left alice', 'channel.vacated']);
    expect(rec.of('member.state')[0]!.data).toEqual({ channel: 'room', identity: 'alice', endpoint: a.address, state: { typing: true } });
  });

  it('no member.state by default', async () => {
    const rec = await receiver();
    const { url } = await server({ urls: [rec.url] });
    const a = await client(url, 'alice', 'phone');
    await a.join('room', true);
    a.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'room', state: { x: 1 } } }));
    await a.leave('room');
    await waitFor(() => rec.of('channel.vacated').length === 1, 5000, 'vacated');
    expect(rec.of('member.state')).toEqual([]);
  });

  it('a reconnect with replaces makes no left/joined pair; a replaced endpoint nobody takes over leaves after the grace', async () => {
    const rec = await receiver();
    const { url } = await server({ urls: [rec.url], replaceGraceMs: 1500 });
    const old = await client(url, 'alice', 'phone');
    await old.join('room');
    await old.join('other');
    await waitFor(() => rec.of('member.joined').length === 2, 5000, 'joined');
    const fresh = await client(url, 'alice', 'phone', old.address); // closes `old` at once
    await fresh.join('room'); // takes room over; `other` is not rejoined
    await waitFor(() => rec.of('member.left', 'other').length === 1, 5000, 'other released after the grace');
    await sleep(300);
    expect(types(rec, 'room')).toEqual(['channel.occupied', 'member.joined alice']);
    expect(rec.of('member.left', 'other')[0]!.data).toMatchObject({ endpoint: old.address, reason: 'replaced' });
    await fresh.leave('room');
    await waitFor(() => rec.of('member.left', 'room').length === 1, 5000, 'left room');
    expect(rec.of('member.left', 'room')[0]!.data).toMatchObject({ endpoint: fresh.address, reason: 'left' });
  });

  it('a receiver answering 500 then 200: the batch is retried with the same ids, nothing lost', async () => {
    const rec = await receiver((n) => (n <= 2 ? 500 : 200));
    const { srv, url } = await server({ urls: [rec.url], retryBaseMs: 50, retryMaxMs: 200 });
    const a = await client(url, 'alice', 'phone');
    await a.join('room');
    await waitFor(() => rec.of('member.joined').length === 1, 8000, 'delivered after retries');
    expect(rec.posts).toBeGreaterThanOrEqual(3);
    expect(types(rec, 'room')).toEqual(['channel.occupied', 'member.joined alice']);
    // the receiver records events before it answers: the server counts them sent once the 200 is back
    const st = await waitFor(() => srv.webhookStats().find((x) => x.sent === 2), 5000, 'counted sent');
    expect(st.retries).toBeGreaterThanOrEqual(2);
    expect(st.failed).toBe(0);
    // The same counts on /metrics.
    const { families } = await scrape(url);
    expect(valueOf(families, 'signal_webhook_events_total', { outcome: 'sent' })).toBe(2);
    expect(valueOf(families, 'signal_webhook_events_total', { outcome: 'failed' })).toBe(0);
    expect(valueOf(families, 'signal_webhook_retries_total')).toBe(st.retries);
    expect(valueOf(families, 'signal_webhook_queued')).toBe(0);
  });

  it('a 400 is not retried (counted failed); other endpoints are not held by a hung one', async () => {
    const bad = await receiver(() => 400);
    const hung = await receiver(() => 'hang');
    const good = await receiver();
    const { srv, url } = await server({ urls: [bad.url, hung.url, good.url], timeoutMs: 60_000 });
    const a = await client(url, 'alice', 'phone');
    await a.join('room');
    await waitFor(() => good.of('member.joined').length === 1, 5000, 'the good endpoint gets its events');
    await waitFor(() => srv.webhookStats()[0]!.failed === 2, 5000, 'the 400 counted');
    expect(bad.posts).toBe(1);
  });

  it('a receiver that never answers: the queue stays bounded, the overflow is counted', async () => {
    const hung = await receiver(() => 'hang');
    const warnings: string[] = [];
    const { srv, url } = await server({ urls: [hung.url], maxQueue: 50, maxBatch: 10, timeoutMs: 60_000, onWarning: (m) => warnings.push(m) });
    const cs = await Promise.all(Array.from({ length: 20 }, (_, i) => client(url, `u${i}`, 'd')));
    for (let round = 0; round < 5; round++) {
      await Promise.all(cs.map((c) => c.join(`room${round}`)));
      await Promise.all(cs.map((c) => c.leave(`room${round}`)));
    }
    // 5 rounds x (1 occupied + 20 joined + 20 left + 1 vacated) = 210 events; at most 10 in the hung POST, 50 queued
    await waitFor(() => srv.webhookStats()[0]!.dropped >= 150, 5000, 'overflow counted');
    const st = srv.webhookStats()[0]!;
    expect(st.queued).toBeLessThanOrEqual(50);
    const inFlight = 210 - st.dropped - st.queued; // the one POST that hangs: 1 to 10 events (maxBatch)
    expect(inFlight).toBeGreaterThanOrEqual(1);
    expect(inFlight).toBeLessThanOrEqual(10);
    expect(hung.posts).toBe(1);
    expect(warnings.some((w) => /queue full/.test(w))).toBe(true);
  });
});

describe('verifyWebhook', () => {
  const body = JSON.stringify({ events: [{ id: 'evt_1', type: 'member.left', timestamp: new Date().toISOString(), seq: 3, data: { channel: 'c', identity: 'a', endpoint: 'a/d/r', reason: 'left' } }] });
  const signed = (secret: string, b = body, at = new Date()): Record<string, string> => {
    const wh = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
    return { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign('msg_1', at, b) };
  };

  it('accepts a good signature (whsec_ form and a plain string), returns the typed events', () => {
    const r = verifyWebhook(body, signed(HOOK_SECRET), HOOK_SECRET);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.events[0]!.type).toBe('member.left');
    expect(verifyWebhook(body, signed('plain secret'), 'plain secret').ok).toBe(true);
    const h = new Headers(signed(HOOK_SECRET));
    expect(verifyWebhook(Buffer.from(body), h, HOOK_SECRET).ok).toBe(true);
  });

  it('refuses a tampered body, a wrong secret, an old or a future timestamp, missing headers', () => {
    const h = signed(HOOK_SECRET);
    expect(verifyWebhook(body.replace('"a"', '"b"'), h, HOOK_SECRET)).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(verifyWebhook(body, h, 'whsec_' + Buffer.from('another key').toString('base64'))).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(verifyWebhook(body, h, 'plain secret')).toMatchObject({ ok: false, error: 'bad-signature' });
    expect(verifyWebhook(body, signed(HOOK_SECRET, body, new Date(Date.now() - 301_000)), HOOK_SECRET)).toMatchObject({ ok: false, error: 'old-timestamp' });
    expect(verifyWebhook(body, signed(HOOK_SECRET, body, new Date(Date.now() - 61_000)), HOOK_SECRET, { toleranceSec: 60 })).toMatchObject({ ok: false, error: 'old-timestamp' });
    expect(verifyWebhook(body, signed(HOOK_SECRET, body, new Date(Date.now() + 400_000)), HOOK_SECRET)).toMatchObject({ ok: false, error: 'future-timestamp' });
    expect(verifyWebhook(body, { 'webhook-id': 'x' }, HOOK_SECRET)).toMatchObject({ ok: false, error: 'missing-headers' });
    expect(verifyWebhook(body, { ...h, 'webhook-timestamp': 'soon' }, HOOK_SECRET)).toMatchObject({ ok: false, error: 'bad-timestamp' });
    // a signature over another id does not verify this one
    expect(verifyWebhook(body, { ...h, 'webhook-id': 'msg_2' }, HOOK_SECRET)).toMatchObject({ ok: false, error: 'bad-signature' });
  });

  it('refuses a signed body that is not a list of events', () => {
    const b = JSON.stringify({ hello: 1 });
    expect(verifyWebhook(b, signed(HOOK_SECRET, b), HOOK_SECRET)).toMatchObject({ ok: false, error: 'bad-payload' });
  });
});
