/**
 * Token verification at the WebSocket upgrade: every bad token closes with 4401 (and the witness
 * pair keeps talking); HS256, RS256 via a public key, and JWKS (local and fetched) are accepted.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSignalServer, type SignalServer, type SignalServerOptions } from '../../src/server/index.js';
import { signAccessToken, startTestServer, type TestServer } from '../../src/testing/index.js';
import { addressOf, RawPool, rawSocket, type RawClient } from '../compat/raw-client.js';

const pool = new RawPool();
let srv: TestServer;
let w1: RawClient;
let w2: RawClient;
let seq = 0;

const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  srv = await startTestServer();
  w1 = await pool.connect(srv.url, await srv.token('witness1', 'a'));
  w2 = await pool.connect(srv.url, await srv.token('witness2', 'b'));
});
afterEach(async () => {
  const n = ++seq;
  w1.notify('signal.send', { to: 'witness2', n });
  expect(await w2.next()).toStrictEqual({
    jsonrpc: '2.0',
    method: 'signal.send',
    params: { to: 'witness2', n, from: expect.stringMatching(addressOf('witness1/a')) },
  });
});
afterAll(async () => {
  pool.closeAll();
  await srv.close();
});

/** Open a socket with `jwt` (null: no jwt parameter) and expect close 4401 before any frame. */
async function expectRefused(base: string, jwt: string | null): Promise<string> {
  const c = pool.add(rawSocket(base, jwt));
  const { code, reason } = await c.waitClose();
  expect(code).toBe(4401);
  expect(c.frames).toEqual([]);
  return reason;
}

async function expectAccepted(base: string, jwt: string): Promise<RawClient> {
  const c = await pool.connect(base, jwt);
  c.send('_ping');
  expect((await c.nextFrame()).text).toBe('_pong');
  return c;
}

describe('HS256 tokens', () => {
  it('a missing token -> 4401', async () => {
    expect(await expectRefused(srv.url, null)).toMatch(/missing/);
    await expectRefused(srv.url, '');
  });

  it('a forged (not a JWT) token -> 4401', async () => {
    await expectRefused(srv.url, 'abc.def.ghi');
    await expectRefused(srv.url, 'garbage');
  });

  it('alg: none -> 4401', async () => {
    const jwt = `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u({ sub: 'mallory/x', aud: srv.url, exp: nowS() + 3600 })}.`;
    await expectRefused(srv.url, jwt);
  });

  it('a tampered payload with the original signature -> 4401', async () => {
    const good = await srv.token('alice', 'web');
    const [h, , sig] = good.split('.');
    const forged = `${h}.${b64u({ sub: 'admin/root', aud: srv.url, exp: nowS() + 3600 })}.${sig}`;
    await expectRefused(srv.url, forged);
  });

  it('an expired token -> 4401 "token expired"', async () => {
    const jwt = await srv.token('alice', 'web', { expiresIn: -10 });
    expect(await expectRefused(srv.url, jwt)).toMatch(/expired/);
  });

  it('a token signed with another secret -> 4401', async () => {
    const jwt = await signAccessToken({ secret: 'not-the-secret', identity: 'alice', device: 'web', audience: srv.url });
    await expectRefused(srv.url, jwt);
  });

  it('a sub without a device (or with a route) -> 4401', async () => {
    const key = new TextEncoder().encode(srv.secret);
    for (const sub of ['alice', 'alice/web/route', '', 'a//b']) {
      const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(key);
      await expectRefused(srv.url, jwt);
    }
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    await expectRefused(srv.url, noSub);
  });

  it('a valid token is accepted on both paths', async () => {
    const jwt = await srv.token('alice', 'web');
    await expectAccepted(srv.url, jwt);
    const c = await pool.connect(srv.url, jwt, '/signal/pubsub');
    c.send('_ping');
    expect((await c.nextFrame()).text).toBe('_pong');
  });
});

describe('asymmetric keys', () => {
  const servers: SignalServer[] = [];
  let jwksHttp: Server | null = null;
  afterAll(async () => {
    for (const s of servers) await s.close();
    await new Promise<void>((r) => (jwksHttp ? jwksHttp.close(() => r()) : r()));
  });

  async function start(opts: SignalServerOptions): Promise<string> {
    const s = createSignalServer(opts);
    servers.push(s);
    return (await s.listen(0, '127.0.0.1')).url;
  }

  it('RS256 with a PEM public key and with a CryptoKey; HS256 with the public key as secret is refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const sign = (sub: string, alg = 'RS256', key: Parameters<SignJWT['sign']>[0] = privateKey) =>
      new SignJWT({}).setProtectedHeader({ alg }).setSubject(sub).setExpirationTime('1h').sign(key);
    const pemUrl = await start({ publicKey: pem });
    const keyUrl = await start({ publicKey });
    await expectAccepted(pemUrl, await sign('alice/web'));
    await expectAccepted(keyUrl, await sign('bob/web'));
    // Algorithm confusion: an HS256 token whose secret is the public PEM.
    await expectRefused(pemUrl, await sign('mallory/x', 'HS256', new TextEncoder().encode(pem)));
    // Signed by another key pair.
    const other = await generateKeyPair('RS256');
    await expectRefused(pemUrl, await sign('mallory/x', 'RS256', other.privateKey));
    // Expired.
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('a/b').setExpirationTime(nowS() - 5).sign(privateKey);
    await expectRefused(keyUrl, expired);
  });

  it('ES256 via a JWKS object and via a JWKS URL (selected by kid)', async () => {
    const k1 = await generateKeyPair('ES256');
    const k2 = await generateKeyPair('RS256');
    const jwks = {
      keys: [
        { ...(await exportJWK(k1.publicKey)), kid: 'k1', alg: 'ES256' },
        { ...(await exportJWK(k2.publicKey)), kid: 'k2', alg: 'RS256' },
      ],
    };
    jwksHttp = createServer((req, res) => {
      res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => jwksHttp!.listen(0, '127.0.0.1', () => r()));
    const addr = jwksHttp.address() as { port: number };
    const localUrl = await start({ jwks });
    const remoteUrl = await start({ jwks: `http://127.0.0.1:${addr.port}/.well-known/jwks.json` });
    const t1 = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice/web').setExpirationTime('1h').sign(k1.privateKey);
    const t2 = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k2' }).setSubject('bob/web').setExpirationTime('1h').sign(k2.privateKey);
    for (const url of [localUrl, remoteUrl]) {
      await expectAccepted(url, t1);
      await expectAccepted(url, t2);
    }
    const stranger = await generateKeyPair('ES256');
    const t3 = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('eve/web').setExpirationTime('1h').sign(stranger.privateKey);
    await expectRefused(localUrl, t3);
    await expectRefused(remoteUrl, t3);
    const unknownKid = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k9' }).setSubject('eve/web').setExpirationTime('1h').sign(k1.privateKey);
    await expectRefused(localUrl, unknownKid);
  });

  it('a JWKS that cannot be fetched closes with 1011 (retry later), not 4401; the server keeps serving', async () => {
    const k = await generateKeyPair('ES256');
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const failing = createServer((_req, res) => {
      res.writeHead(500);
      res.end('oops');
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
    try {
      const t = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice/web').setExpirationTime('1h').sign(k.privateKey);
      for (const jwks of [`http://127.0.0.1:${deadPort}/jwks.json`, `http://127.0.0.1:${(failing.address() as { port: number }).port}/jwks.json`]) {
        const url = await start({ jwks });
        const c = pool.add(rawSocket(url, t));
        const { code, reason } = await c.waitClose(10_000);
        expect(code).toBe(1011);
        expect(reason).toMatch(/keys unavailable/);
        expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
        // A bad token is still a 4401 there.
        await expectRefused(url, 'abc.def.ghi');
      }
    } finally {
      await new Promise<void>((r) => failing.close(() => r()));
    }
  });

  it('audience and issuer checks when configured', async () => {
    const url = await start({ secret: 's3cret', audience: 'https://signal.example', issuer: 'me' });
    const key = new TextEncoder().encode('s3cret');
    const mk = (aud: string, iss: string) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('a/b').setAudience(aud).setIssuer(iss).setExpirationTime('1h').sign(key);
    await expectAccepted(url, await mk('https://signal.example', 'me'));
    await expectRefused(url, await mk('https://other.example', 'me'));
    await expectRefused(url, await mk('https://signal.example', 'you'));
  });

  it('a bad option combination throws TypeError', () => {
    expect(() => createSignalServer({})).toThrow(TypeError);
    expect(() => createSignalServer({ secret: 'a', jwks: { keys: [] } })).toThrow(TypeError);
    expect(() => createSignalServer({ secret: '' })).toThrow(TypeError);
  });
});

describe('claims: exp required, iat and nbf not ahead of the clock', () => {
  const servers: SignalServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  async function start(opts: SignalServerOptions): Promise<string> {
    const s = createSignalServer(opts);
    servers.push(s);
    return (await s.listen(0, '127.0.0.1')).url;
  }
  const YEAR = 365 * 24 * 3600;
  const hs = (claims: Record<string, unknown>, secret = srv.secret) =>
    new SignJWT({ sub: 'alice/web', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

  it('a token without exp -> 4401 "invalid token: missing exp" (by default)', async () => {
    expect(await expectRefused(srv.url, await hs({ aud: srv.url, iat: nowS() }))).toBe('invalid token: missing exp');
    expect(await expectRefused(srv.url, await hs({}))).toBe('invalid token: missing exp');
  });

  it('iat ten years ahead -> 4401 "invalid token: iat in the future" (also with a far exp)', async () => {
    const jwt = await hs({ iat: nowS() + 10 * YEAR, exp: nowS() + 10 * YEAR + 3600 });
    expect(await expectRefused(srv.url, jwt)).toBe('invalid token: iat in the future');
    expect(await expectRefused(srv.url, await hs({ iat: nowS() + 120, exp: nowS() + 3600 }))).toBe('invalid token: iat in the future');
  });

  it('nbf ahead -> 4401 "invalid token: nbf in the future"', async () => {
    expect(await expectRefused(srv.url, await hs({ nbf: nowS() + 3600, exp: nowS() + 7200 }))).toBe('invalid token: nbf in the future');
  });

  it('iat and nbf within the default 30 s clock skew are accepted; exp gets no leeway', async () => {
    await expectAccepted(srv.url, await hs({ iat: nowS() + 10, nbf: nowS() + 10, exp: nowS() + 3600 }));
    expect(await expectRefused(srv.url, await hs({ iat: nowS() - 60, exp: nowS() - 1 }))).toBe('token expired');
  });

  it('requireExp: false accepts a token without exp (iat still checked); clockToleranceSec moves the skew', async () => {
    const lax = await start({ secret: 'lax', requireExp: false });
    await expectAccepted(lax, await hs({ iat: nowS() }, 'lax'));
    expect(await expectRefused(lax, await hs({ iat: nowS() + 10 * YEAR }, 'lax'))).toBe('invalid token: iat in the future');
    const strict = await start({ secret: 'strict', clockToleranceSec: 0 });
    expect(await expectRefused(strict, await hs({ iat: nowS() + 5, exp: nowS() + 3600 }, 'strict'))).toBe('invalid token: iat in the future');
    expect(await expectRefused(strict, await hs({ nbf: nowS() + 5, exp: nowS() + 3600 }, 'strict'))).toBe('invalid token: nbf in the future');
    const wide = await start({ secret: 'wide', clockToleranceSec: 300 });
    await expectAccepted(wide, await hs({ iat: nowS() + 120, nbf: nowS() + 120, exp: nowS() + 3600 }, 'wide'));
    expect(await expectRefused(wide, await hs({ exp: nowS() - 1 }, 'wide'))).toBe('token expired');
  });

  it('a token without aud when an audience is configured -> 4401', async () => {
    const url = await start({ secret: 'aud', audience: 'https://signal.example' });
    expect(await expectRefused(url, await hs({ exp: nowS() + 3600 }, 'aud'))).toMatch(/^invalid token: missing required "aud"/);
    await expectAccepted(url, await hs({ aud: 'https://signal.example', exp: nowS() + 3600 }, 'aud'));
  });

  it('a bad clockToleranceSec throws TypeError; a bad PEM refuses tokens (1011) without an unhandled rejection', async () => {
    for (const clockToleranceSec of [-1, Number.NaN, Infinity]) {
      expect(() => createSignalServer({ secret: 's', clockToleranceSec })).toThrow(TypeError);
    }
    const url = await start({ publicKey: '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n' });
    const c = pool.add(rawSocket(url, await hs({ exp: nowS() + 3600 })));
    const { code, reason } = await c.waitClose(10_000);
    expect(code).toBe(1011);
    expect(reason).toMatch(/keys unavailable/);
  });
});
