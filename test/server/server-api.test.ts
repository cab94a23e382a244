/**
 * The server API in one process (Node API on createSignalServer's object, and on the in-page server): real sockets,
 * our Signal client and raw protocol sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { SERVER_FROM, type Signal } from '../../src/client/index.js';
import { createInPageServer } from '../../src/server/in-page.js';
import { ServerApiError } from '../../src/server/server-api-types.js';
import { signAccessToken } from '../../src/server/auth.js';
import { AccessToken, Signal as SignalClient } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor, sleep, stateTrail } from '../helpers/wait.js';
import { RawPool, rawSocket } from '../compat/raw-client.js';

let srv: TestServer;
const pool = new RawPool();
afterEach(async () => {
  pool.closeAll();
  await srv?.close();
});

const texts = (sig: Signal): { list: { text: unknown; from: string; id?: string }[] } => {
  const out = { list: [] as { text: unknown; from: string; id?: string }[] };
  sig.on('message', (m) => out.list.push({ text: (m as { text?: unknown }).text, from: m.from }));
  return out;
};

async function refused(p: Promise<unknown>, code: string): Promise<ServerApiError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ServerApiError);
  expect((e as ServerApiError).code).toBe(code);
  return e as ServerApiError;
}

describe('server API (Node, one process)', () => {
  it('send reaches an identity, a device and an exact endpoint, from $server', async () => {
    srv = await startTestServer();
    const phone = await srv.connect('bob', 'phone');
    const desk = await srv.connect('bob', 'desk');
    const other = await srv.connect('carol', 'web');
    const [p, d, o] = [texts(phone), texts(desk), texts(other)];
    await srv.server.send('bob', { text: 'all' });
    await waitFor(() => p.list.length === 1 && d.list.length === 1, 3000, 'identity send');
    expect(p.list[0]).toEqual({ text: 'all', from: SERVER_FROM });
    await srv.server.send('bob/desk', { text: 'desk' });
    await waitFor(() => d.list.length === 2, 3000, 'device send');
    const ch = desk.join('probe');
    await ch.ready;
    await srv.server.send(ch.me.id!, { text: 'exact' });
    await waitFor(() => d.list.length === 3, 3000, 'endpoint send');
    await sleep(150);
    expect(p.list.map((m) => m.text)).toEqual(['all']);
    expect(d.list.map((m) => m.text)).toEqual(['all', 'desk', 'exact']);
    expect(o.list).toEqual([]);
  });

  it('publish reaches every member (presence or not), from $server, with no participant', async () => {
    srv = await startTestServer();
    const a = await srv.connect('alice', 'web');
    const b = await srv.connect('bob', 'web');
    const ca = a.join('room', { presence: true });
    const cb = b.join('room');
    await Promise.all([ca.ready, cb.ready]);
    const got: { from: string; text: unknown; p: unknown }[] = [];
    for (const ch of [ca, cb]) ch.on('message', (m, p) => got.push({ from: m.from, text: (m as { text?: unknown }).text, p }));
    await srv.server.publish('room', { text: 'hello' });
    await waitFor(() => got.length === 2, 3000, 'publish');
    expect(got).toEqual([
      { from: SERVER_FROM, text: 'hello', p: undefined },
      { from: SERVER_FROM, text: 'hello', p: undefined },
    ]);
    expect(ca.participants.has(SERVER_FROM)).toBe(false);
  });

  it('presence and channels', async () => {
    srv = await startTestServer();
    const a = await srv.connect('alice', 'web');
    const b = await srv.connect('bob', 'web');
    const ca = a.join('room', { presence: true });
    const cb = b.join('room');
    const cq = b.join('quiet');
    await Promise.all([ca.ready, cb.ready, cq.ready]);
    ca.me.updateState({ mood: 'ok' });
    let members = await srv.server.presence('room');
    for (let i = 0; i < 100 && members[0]?.state === undefined; i++) {
      await sleep(20);
      members = await srv.server.presence('room');
    }
    expect(members).toEqual([{ address: ca.me.id, identity: 'alice', device: 'web', state: { mood: 'ok' } }]);
    expect(await srv.server.presence('nobody-here')).toEqual([]);
    expect(await srv.server.channels()).toEqual([
      { name: 'quiet', members: 1, presence: 0 },
      { name: 'room', members: 2, presence: 1 },
    ]);
  });

  it('disconnect: every endpoint of the target closes with 4403 and its reason; our client stays closed; peers see it leave', async () => {
    srv = await startTestServer();
    const watcher = await srv.connect('watcher', 'w');
    const cw = watcher.join('room', { presence: true });
    await cw.ready;
    const raw = pool.add(rawSocket(srv.url, await srv.token('mallory', 'sdk')));
    await raw.opened;
    raw.notify('signal.join', { id: 'room', presence: true });
    const sig = await srv.connect('mallory', 'web');
    await sig.join('room', { presence: true }).ready;
    await waitFor(() => cw.participants.size === 2, 3000, 'two joined');
    const states: string[] = [];
    sig.on('state', (s) => states.push(s));
    await srv.server.disconnect('mallory', { reason: 'banned' });
    expect(await raw.waitClose()).toEqual({ code: 4403, reason: 'banned' });
    await waitFor(() => sig.state === 'closed', 3000, 'our client closed');
    await waitFor(() => cw.participants.size === 0, 3000, 'peers see both leave');
    await sleep(1500); // longer than the first reconnect delay: it never reconnects by itself
    expect(sig.state).toBe('closed');
    expect(states).toEqual(['closed']);
  });

  it('disconnect with another code: our client reconnects (and only the named device goes)', async () => {
    srv = await startTestServer();
    const web = await srv.connect('dan', 'web');
    const phone = await srv.connect('dan', 'phone');
    const seen: string[] = [];
    web.on('state', (s) => seen.push(s));
    await srv.server.disconnect('dan/web', { code: 4001, reason: 'move along' });
    await waitFor(() => seen.includes('open'), 8000, 'web reconnected');
    expect(seen[0]).toBe('reconnecting');
    expect(phone.state).toBe('open');
    await refused(srv.server.disconnect('dan', { code: 1006 }), 'invalid_field');
    await refused(srv.server.disconnect('dan', { reason: 'x'.repeat(124) }), 'invalid_field');
  });

  it('unsubscribe: removed from one channel, peers see the leave, our channel is left with the reason and never rejoined', async () => {
    srv = await startTestServer();
    const a = await srv.connect('alice', 'web');
    const b = await srv.connect('bob', 'web');
    const ca = a.join('room', { presence: true });
    const other = a.join('lobby', { presence: true });
    const cb = b.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready, other.ready]);
    await waitFor(() => cb.participants.size === 1, 3000, 'bob sees alice');
    const statuses: string[] = [];
    ca.on('status', (s) => statuses.push(s));
    await srv.server.unsubscribe('alice', 'room', { reason: 'kicked from room' });
    await waitFor(() => ca.status === 'left', 3000, 'left');
    expect(ca.reason).toBe('kicked from room');
    expect(statuses).toEqual(['left']);
    expect(a.channels.has('room')).toBe(false);
    expect(other.status).toBe('joined');
    await waitFor(() => cb.participants.size === 0, 3000, 'bob sees alice leave');
    // A reconnect rejoins the other channel, not this one.
    const trail = stateTrail(a);
    await srv.server.disconnect('alice', { code: 4002 });
    await waitFor(() => trail.includes('reconnecting'), 3000, 'reconnecting');
    await waitFor(() => a.state === 'open' && other.status === 'joined', 8000, 'back');
    await sleep(300);
    expect((await srv.server.presence('room')).map((m) => m.identity)).toEqual(['bob']);
    expect((await srv.server.presence('lobby')).map((m) => m.identity)).toEqual(['alice']);
    // Not joined: nothing happens.
    await srv.server.unsubscribe('alice', 'room');
    expect(ca.status).toBe('left');
  });

  it('refuses bad input with a code', async () => {
    srv = await startTestServer({ limits: { maxFrameBytes: 1024 } });
    await refused(srv.server.send('', { a: 1 }), 'invalid_address');
    await refused(srv.server.send('a/b/c/d', { a: 1 }), 'invalid_address');
    await refused(srv.server.send('\ud800x', { a: 1 }), 'invalid_address');
    await refused(srv.server.send(SERVER_FROM, { a: 1 }), 'invalid_address');
    await refused(srv.server.send('bob', [] as unknown as Record<string, unknown>), 'invalid_payload');
    await refused(srv.server.send('bob', { from: 'alice/x/y' }), 'invalid_payload');
    await refused(srv.server.send('bob', { id: 'room' }), 'invalid_payload');
    await refused(srv.server.send('bob', { big: 'x'.repeat(1000) }), 'payload_too_large');
    await refused(srv.server.send('bob', { big: 'é'.repeat(500) }), 'payload_too_large'); // 1000 bytes of UTF-8 + envelope
    await refused(srv.server.publish('', { a: 1 }), 'invalid_channel');
    await refused(srv.server.publish('x'.repeat(257), { a: 1 }), 'invalid_channel');
    await refused(srv.server.publish('\udc00', { a: 1 }), 'invalid_channel');
    await refused(srv.server.publish('room', { state: {} }), 'invalid_payload');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await refused(srv.server.publish('room', cyclic), 'invalid_payload');
    await refused(srv.server.presence('\ud800'), 'invalid_channel');
    await refused(srv.server.unsubscribe('bob', ''), 'invalid_channel');
    await refused(srv.server.disconnect('/x'), 'invalid_address');
  });

  it('refuses calls with shutting_down once the server is stopping', async () => {
    srv = await startTestServer();
    const closing = srv.server.close();
    await refused(srv.server.send('bob', { a: 1 }), 'shutting_down');
    await refused(srv.server.channels(), 'shutting_down');
    await closing;
  });

  it('no token can be $server: the verifier and the signer refuse it', async () => {
    srv = await startTestServer();
    await expect(signAccessToken({ secret: srv.secret, identity: SERVER_FROM, audience: srv.url })).rejects.toThrow(/reserved/);
    const forged = await new SignJWT({ sub: `${SERVER_FROM}/dev` })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(srv.secret));
    const raw = pool.add(rawSocket(srv.url, forged));
    const closed = await raw.waitClose();
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/reserved/);
  });
});

describe('server API on the in-page server', () => {
  it('send, publish, presence, channels, unsubscribe, disconnect', async () => {
    const page = createInPageServer();
    try {
      const mk = async (id: string): Promise<Signal> => {
        const s = new SignalClient(new AccessToken(await page.token(id, 'tab')), { WebSocket: page.WebSocket });
        await waitFor(() => s.state === 'open', 3000, `${id} open`);
        return s;
      };
      const a = await mk('alice');
      const b = await mk('bob');
      const ca = a.join('room', { presence: true });
      const cb = b.join('room', { presence: true });
      await Promise.all([ca.ready, cb.ready]);
      const dms: string[] = [];
      a.on('message', (m) => dms.push(m.from));
      const pubs: string[] = [];
      cb.on('message', (m) => pubs.push(m.from));
      await page.send('alice', { text: 'hi' });
      await page.publish('room', { text: 'all' });
      await waitFor(() => dms.length === 1 && pubs.length === 1, 3000, 'in-page deliveries');
      expect([dms[0], pubs[0]]).toEqual([SERVER_FROM, SERVER_FROM]);
      expect((await page.presence('room')).map((m) => m.identity)).toEqual(['alice', 'bob']);
      expect(await page.channels()).toEqual([{ name: 'room', members: 2, presence: 2 }]);
      await page.unsubscribe('bob/tab', 'room', { reason: 'bye' });
      await waitFor(() => cb.status === 'left' && ca.participants.size === 0, 3000, 'unsubscribed');
      expect(cb.reason).toBe('bye');
      await page.disconnect('alice');
      await waitFor(() => a.state === 'closed', 3000, 'disconnected');
      a.dispose();
      b.dispose();
    } finally {
      await page.close();
    }
  });
});
