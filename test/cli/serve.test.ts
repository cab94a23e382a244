/**
 * The real bin (`node bin/react-signal-service.js`, running dist/ built by globalSetup):
 * the `listening on` line, POST /token, GET /healthz, a client, SIGTERM (a 1012 drain, exit 0),
 * --help, bad flags, env fallbacks.
 */
import { createServer } from 'node:net';
import { jwtVerify, decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessToken, Signal } from '../../src/client/index.js';
import { NodeWebSocket } from '../../src/testing/index.js';
import { RawPool } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';
import { exitOf, killAll, run, serve } from './run.js';

const pool = new RawPool();
const clients: Signal[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
  pool.closeAll();
  killAll();
});

async function postToken(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('react-signal-service serve', () => {
  it('prints the listening line, serves /token and /healthz, a client works, SIGTERM drains (1012, within the default 5 s drain) and exits 0', { timeout: 40_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--dev-tokens']);
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.out().split('\n').filter((l) => l.includes('listening on'))).toHaveLength(1);
    expect(srv.err()).toMatch(/development secret/);

    const health = await fetch(`${srv.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, connections: 0, channels: 0 });

    const t1 = await postToken(srv.url, { identity: 'alice', device: 'web' });
    expect(t1.status).toBe(200);
    const claims = decodeJwt(t1.json.token as string);
    expect(claims).toMatchObject({ sub: 'alice/web', aud: srv.url });
    expect(claims.exp! - claims.iat!).toBe(3600);
    const t2 = await postToken(srv.url, { identity: 'bob' });
    expect(decodeJwt(t2.json.token as string).sub).toMatch(/^bob\/[a-z0-9]+$/);
    expect((await postToken(srv.url, {})).status).toBe(400);
    expect((await postToken(srv.url, { identity: 'a/b' })).status).toBe(400);
    const badJson = await fetch(`${srv.url}/token`, { method: 'POST', body: '{' });
    expect(badJson.status).toBe(400);
    expect((await fetch(`${srv.url}/token`)).status).toBe(405);
    expect((await fetch(`${srv.url}/nope`)).status).toBe(404);

    // A client from nothing but the token (the URL comes from aud).
    const alice = new Signal(new AccessToken(t1.json.token as string), { WebSocket: NodeWebSocket, reconnect: false });
    clients.push(alice);
    const bob = new Signal(t2.json.token as string, { WebSocket: NodeWebSocket, reconnect: false });
    clients.push(bob);
    await waitFor(() => alice.state === 'open' && bob.state === 'open', 5000);
    const ca = alice.join('room', { presence: true });
    const cb = bob.join('room', { presence: true });
    await Promise.all([ca.ready, cb.ready]);
    const got: unknown[] = [];
    bob.on('message', (m) => got.push(m.text));
    alice.send({ to: 'bob', text: 'over the cli' });
    await waitFor(() => got.length === 1);
    expect(await (await fetch(`${srv.url}/healthz`)).json()).toEqual({ ok: true, connections: 2, channels: 1 });

    // A raw SDK-style socket sees the close code.
    const raw = await pool.connect(srv.url, t1.json.token as string, '/signal/pubsub');
    srv.child.kill('SIGTERM');
    expect((await raw.waitClose(15_000)).code).toBe(1012);
    expect(await exitOf(srv, 20_000)).toEqual({ code: 0, signal: null });
    await waitFor(() => alice.state === 'closed' && bob.state === 'closed');
    expect(srv.out()).toMatch(/SIGTERM: shutting down/);
  });

  it('SIGINT stops it too; presence leaves before the sockets close', { timeout: 30_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--dev-tokens', '--secret', 'cli-secret']);
    const raw1 = await pool.connect(srv.url, (await postToken(srv.url, { identity: 'a', device: 'x' })).json.token as string);
    const raw2 = await pool.connect(srv.url, (await postToken(srv.url, { identity: 'b', device: 'y' })).json.token as string);
    raw1.notify('signal.join', { id: 'r', presence: true });
    await raw1.drain(100);
    raw2.notify('signal.join', { id: 'r', presence: true });
    await raw2.next(); // join_back
    await raw1.next(); // join
    srv.child.kill('SIGINT');
    const [c1, c2] = await Promise.all([raw1.waitClose(5000), raw2.waitClose(5000)]);
    expect([c1.code, c2.code]).toEqual([1001, 1001]);
    // Whoever is closed second hears the first leave.
    const leaves = [...raw1.unread(), ...raw2.unread()].map((f) => (f.json as { method?: string }).method);
    expect(leaves).toEqual(['signal.leave']);
    expect(await exitOf(srv)).toEqual({ code: 0, signal: null });
  });

  it('without --dev-tokens there is no /token', async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', 's']);
    expect((await fetch(`${srv.url}/token`, { method: 'POST', body: '{"identity":"a"}' })).status).toBe(404);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    srv.child.kill('SIGTERM');
    expect((await exitOf(srv)).code).toBe(0);
  });

  it('env fallbacks: SIGNAL_PORT, SIGNAL_HOST, SIGNAL_SECRET, SIGNAL_DEV_TOKENS, SIGNAL_PUBLIC_URL', { timeout: 30_000 }, async () => {
    const srv = await serve(['serve'], {
      SIGNAL_PORT: '0',
      SIGNAL_HOST: '127.0.0.1',
      SIGNAL_SECRET: 'from-env',
      SIGNAL_DEV_TOKENS: '1',
      SIGNAL_PUBLIC_URL: 'https://signal.example',
    });
    expect(srv.err()).not.toMatch(/development secret/);
    const { json } = await postToken(srv.url, { identity: 'carol', device: 'd' });
    const { payload } = await jwtVerify(json.token as string, new TextEncoder().encode('from-env'));
    expect(payload).toMatchObject({ sub: 'carol/d', aud: 'https://signal.example' });
    // Flags win over the environment.
    srv.child.kill('SIGTERM');
    await exitOf(srv);
    const flagged = await serve(['serve', '--port', '0', '--secret', 'from-flag', '--dev-tokens', '--public-url', 'http://flag.example'], {
      SIGNAL_SECRET: 'from-env',
      SIGNAL_PUBLIC_URL: 'https://signal.example',
    });
    const t = await postToken(flagged.url, { identity: 'dan', device: 'd' });
    const v = await jwtVerify(t.json.token as string, new TextEncoder().encode('from-flag'));
    expect(v.payload.aud).toBe('http://flag.example');
    flagged.child.kill('SIGTERM');
    expect((await exitOf(flagged)).code).toBe(0);
  });

  it('--help and -h print the usage and exit 0', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['-h'], ['help']]) {
      const r = run(args);
      expect(await exitOf(r)).toEqual({ code: 0, signal: null });
      expect(r.out()).toMatch(/Usage: react-signal-service serve/);
      for (const flag of ['--port', '--host', '--secret', '--dev-tokens', '--redis', '--public-url']) expect(r.out()).toContain(flag);
      for (const [flag, envName] of [
        ['--audience', 'SIGNAL_AUDIENCE'],
        ['--issuer', 'SIGNAL_ISSUER'],
        ['--public-key', 'SIGNAL_PUBLIC_KEY'],
        ['--public-key-alg', 'SIGNAL_PUBLIC_KEY_ALG'],
        ['--jwks', 'SIGNAL_JWKS'],
        ['--allow-no-exp', 'SIGNAL_ALLOW_NO_EXP'],
      ]) {
        expect(r.out()).toContain(flag);
        expect(r.out()).toContain(envName);
      }
    }
  });

  it('bad flags, bad values and unknown commands exit 2 with the usage on stderr', async () => {
    for (const args of [['serve', '--nope'], ['serve', '--port', 'abc'], ['serve', '--port', '70000'], ['launch'], [], ['serve', 'extra'], ['serve', '--port'], ['serve', '--public-url', 'ws://x'], ['serve', '--public-url', 'nope']]) {
      const r = run(args);
      expect(await exitOf(r), args.join(' ')).toEqual({ code: 2, signal: null });
      expect(r.err().length).toBeGreaterThan(0);
      expect(r.out()).not.toMatch(/listening on/);
    }
  });

  it('a port in use exits 1 with a message', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as { port: number }).port;
      const r = run(['serve', '--port', String(port), '--secret', 's']);
      expect((await exitOf(r)).code).toBe(1);
      expect(r.err()).toMatch(/cannot listen/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
