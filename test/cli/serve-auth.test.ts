/**
 * Token checks of the real CLI (`react-signal-service serve`): the audience (--audience, else --public-url), the
 * issuer, exp required, iat/nbf not in the future, one key source (--secret, --public-key, --jwks), no empty or
 * silently replaced secret, warnings for weak setups, and dev tokens whose aud never comes from a Host header.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawPool, rawSocket } from '../compat/raw-client.js';
import { exitOf, killAll, run, serve, stop } from './run.js';

const SECRET = 'cli-audience-test-secret-0123456789abcdef'; // 41 bytes: no short-secret warning
const AUD = 'https://signal.example';
const DEV_SECRET = 'react-signal-service-development-secret';
const YEAR = 365 * 24 * 3600;

const pool = new RawPool();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rss-cli-auth-'));
});
afterEach(() => {
  pool.closeAll();
  killAll();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const nowS = (): number => Math.floor(Date.now() / 1000);
const key = (s: string): Uint8Array => new TextEncoder().encode(s);
/** A well-formed claim set for `aud` (none when undefined): sub alice/web, iat now, exp in an hour. */
const claims = (aud: string | undefined, extra: JWTPayload = {}): JWTPayload => ({
  sub: 'alice/web',
  iat: nowS(),
  exp: nowS() + 3600,
  ...(aud === undefined ? {} : { aud }),
  ...extra,
});
const hs = (payload: JWTPayload, secret = SECRET): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key(secret));

/** Open a socket with `jwt`; expect close 4401 with a reason matching `reason`, before any frame. */
async function expectRefused(url: string, jwt: string, reason: RegExp): Promise<void> {
  const c = pool.add(rawSocket(url, jwt));
  const closed = await c.waitClose(10_000);
  expect(closed.code, closed.reason).toBe(4401);
  expect(closed.reason).toMatch(reason);
  expect(c.frames).toEqual([]);
}

async function expectAccepted(url: string, jwt: string): Promise<void> {
  const c = await pool.connect(url, jwt);
  c.send('_ping');
  expect((await c.nextFrame(10_000)).text).toBe('_pong');
}

/** POST /token with a forged Host header (fetch cannot set Host). */
function postTokenWithHost(url: string, host: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname: u.hostname, port: u.port, path: '/token', method: 'POST', headers: { host, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('POST /token: no answer within 10 s')));
    req.end(JSON.stringify(body));
  });
}

/** Run each argument list (in parallel) and expect exit 2, a message on stderr matching `err`, no listening line. */
async function expectUsageError(cases: { args: string[]; env?: Record<string, string>; err: RegExp }[]): Promise<void> {
  // Three at a time: a busy 2-core CI machine starts Node slowly.
  for (let i = 0; i < cases.length; i += 3) {
    await Promise.all(
      cases.slice(i, i + 3).map(async ({ args, env, err }) => {
        const r = run(args, env);
        const what = `${args.join(' ')} ${JSON.stringify(env ?? {})}`;
        expect(await exitOf(r), what).toEqual({ code: 2, signal: null });
        expect(r.err(), what).toMatch(err);
        expect(r.out(), what).not.toMatch(/listening on/);
      }),
    );
  }
}

describe('serve: claims checked', () => {
  it('--audience: a token for another audience, without aud, without exp, with iat ten years ahead or nbf ahead -> 4401 with the reason; the right token works', { timeout: 120_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--audience', AUD]);
    expect(srv.err()).not.toMatch(/any audience/);
    await expectRefused(srv.url, await hs(claims('https://staging.example')), /^invalid token: .*"aud"/);
    await expectRefused(srv.url, await hs(claims(undefined)), /^invalid token: missing required "aud"/);
    const { exp: _exp, ...noExp } = claims(AUD);
    await expectRefused(srv.url, await hs(noExp), /^invalid token: missing exp$/);
    await expectRefused(srv.url, await hs(claims(AUD, { iat: nowS() + 10 * YEAR, exp: nowS() + 10 * YEAR + 3600 })), /^invalid token: iat in the future$/);
    await expectRefused(srv.url, await hs(claims(AUD, { nbf: nowS() + 3600 })), /^invalid token: nbf in the future$/);
    await expectRefused(srv.url, await hs(claims(AUD, { exp: nowS() - 5 })), /^token expired$/);
    // The right token; small clock skew (iat and nbf a few seconds ahead) is tolerated; aud as an array holding ours.
    await expectAccepted(srv.url, await hs(claims(AUD)));
    await expectAccepted(srv.url, await hs(claims(AUD, { iat: nowS() + 5, nbf: nowS() + 5 })));
    await expectAccepted(srv.url, await hs(claims(undefined, { aud: ['https://other.example', AUD] })));
    await stop(srv);
  });

  it('--public-url is the audience by default (SIGNAL_AUDIENCE overrides it); neither: a warning that any audience is accepted', { timeout: 120_000 }, async () => {
    const byUrl = await serve(['serve', '--port', '0', '--secret', SECRET, '--public-url', AUD]);
    expect(byUrl.err()).not.toMatch(/any audience/);
    await expectRefused(byUrl.url, await hs(claims('https://tenant-b.example')), /^invalid token: .*"aud"/);
    await expectRefused(byUrl.url, await hs(claims(undefined)), /"aud"/);
    await expectAccepted(byUrl.url, await hs(claims(AUD)));
    await stop(byUrl);

    const byEnv = await serve(['serve', '--port', '0', '--public-url', AUD], { SIGNAL_SECRET: SECRET, SIGNAL_AUDIENCE: 'urn:signal:prod' });
    await expectRefused(byEnv.url, await hs(claims(AUD)), /"aud"/);
    await expectAccepted(byEnv.url, await hs(claims('urn:signal:prod')));
    await stop(byEnv);

    const open = await serve(['serve', '--port', '0', '--secret', SECRET]);
    expect(open.err()).toMatch(/warning: .*tokens for any audience \(aud\) are accepted/);
    await stop(open);
  });

  it('--issuer (and SIGNAL_ISSUER): a token from another issuer or none -> 4401', { timeout: 120_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--audience', AUD, '--issuer', 'https://auth.example']);
    await expectRefused(srv.url, await hs(claims(AUD, { iss: 'https://evil.example' })), /^invalid token: .*"iss"/);
    await expectRefused(srv.url, await hs(claims(AUD)), /^invalid token: missing required "iss"/);
    await expectAccepted(srv.url, await hs(claims(AUD, { iss: 'https://auth.example' })));
    await stop(srv);
    const env = await serve(['serve', '--port', '0', '--audience', AUD], { SIGNAL_SECRET: SECRET, SIGNAL_ISSUER: 'me' });
    await expectRefused(env.url, await hs(claims(AUD, { iss: 'you' })), /"iss"/);
    await expectAccepted(env.url, await hs(claims(AUD, { iss: 'me' })));
    await stop(env);
  });

  it('--allow-no-exp (and SIGNAL_ALLOW_NO_EXP=1) accepts a token without exp, with a warning', { timeout: 120_000 }, async () => {
    const { exp: _exp, ...noExp } = claims(AUD);
    for (const [args, env] of [
      [['--allow-no-exp'], {}],
      [[], { SIGNAL_ALLOW_NO_EXP: '1' }],
    ] as const) {
      const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--audience', AUD, ...args], env);
      expect(srv.err()).toMatch(/warning: .*without exp/);
      await expectAccepted(srv.url, await hs(noExp));
      // Still refused: an expired one, and iat in the future.
      await expectRefused(srv.url, await hs(claims(AUD, { exp: nowS() - 5 })), /^token expired$/);
      await expectRefused(srv.url, await hs({ ...noExp, iat: nowS() + 10 * YEAR }), /^invalid token: iat in the future$/);
      await stop(srv);
    }
  });
});

describe('serve: secrets', () => {
  it("--secret '' and an empty SIGNAL_SECRET exit 2 (no fallback to the development secret)", { timeout: 120_000 }, async () => {
    await expectUsageError([
      { args: ['serve', '--port', '0', '--secret', ''], err: /--secret is empty/ },
      { args: ['serve', '--port', '0', '--secret='], err: /--secret is empty/ },
      { args: ['serve', '--port', '0'], env: { SIGNAL_SECRET: '' }, err: /SIGNAL_SECRET is empty/ },
      { args: ['serve', '--port', '0', '--dev-tokens'], env: { SIGNAL_SECRET: '' }, err: /SIGNAL_SECRET is empty/ },
      { args: ['serve', '--port', '0', '--secret', SECRET, '--audience', ''], err: /--audience is empty/ },
    ]);
  });

  it('no secret at all: the development secret, with its warning', { timeout: 60_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--audience', AUD]);
    expect(srv.err()).toMatch(/warning: .*development secret/);
    await expectAccepted(srv.url, await hs(claims(AUD), DEV_SECRET));
    await stop(srv);
  });

  it('a secret shorter than 32 bytes warns; 32 bytes does not', { timeout: 120_000 }, async () => {
    const short = await serve(['serve', '--port', '0', '--secret', 'short-secret', '--audience', AUD]);
    expect(short.err()).toMatch(/warning: --secret is 12 bytes: use at least 32/);
    await expectAccepted(short.url, await hs(claims(AUD), 'short-secret'));
    await stop(short);
    const shortEnv = await serve(['serve', '--port', '0', '--audience', AUD], { SIGNAL_SECRET: 'x'.repeat(31) });
    expect(shortEnv.err()).toMatch(/warning: SIGNAL_SECRET is 31 bytes/);
    await stop(shortEnv);
    const ok = await serve(['serve', '--port', '0', '--secret', 'y'.repeat(32), '--audience', AUD]);
    expect(ok.err()).toBe('');
    await stop(ok);
  });

  it('--dev-tokens with a real secret warns that anyone reaching the port can mint tokens', { timeout: 120_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--dev-tokens', '--public-url', AUD]);
    expect(srv.err()).toMatch(/warning: --dev-tokens with your secret: anyone who reaches this port can mint tokens/);
    await stop(srv);
    const env = await serve(['serve', '--port', '0', '--public-url', AUD], { SIGNAL_SECRET: SECRET, SIGNAL_DEV_TOKENS: '1' });
    expect(env.err()).toMatch(/anyone who reaches this port can mint tokens/);
    await stop(env);
  });
});

describe('serve: public keys and JWKS', () => {
  it('--public-key with a PEM file (RS256), as PEM text in SIGNAL_PUBLIC_KEY, and with --public-key-alg ES256', { timeout: 120_000 }, async () => {
    const rs = await generateKeyPair('RS256');
    const pemFile = join(dir, 'rs256.pub.pem');
    writeFileSync(pemFile, await exportSPKI(rs.publicKey));
    const rsToken = (payload: JWTPayload, k = rs.privateKey, alg = 'RS256') => new SignJWT(payload).setProtectedHeader({ alg }).sign(k);

    const srv = await serve(['serve', '--port', '0', '--public-key', pemFile, '--audience', AUD]);
    expect(srv.err()).not.toMatch(/development secret/);
    await expectAccepted(srv.url, await rsToken(claims(AUD)));
    await expectRefused(srv.url, await rsToken(claims('https://staging.example')), /"aud"/);
    const { exp: _exp, ...noExp } = claims(AUD);
    await expectRefused(srv.url, await rsToken(noExp), /^invalid token: missing exp$/);
    // Not the development secret, nor another key pair.
    await expectRefused(srv.url, await hs(claims(AUD), DEV_SECRET), /^invalid token/);
    await expectRefused(srv.url, await rsToken(claims(AUD), (await generateKeyPair('RS256')).privateKey), /^invalid token/);
    await stop(srv);

    const fromEnv = await serve(['serve', '--port', '0', '--audience', AUD], { SIGNAL_PUBLIC_KEY: await exportSPKI(rs.publicKey) });
    await expectAccepted(fromEnv.url, await rsToken(claims(AUD)));
    await stop(fromEnv);

    const es = await generateKeyPair('ES256');
    const esSrv = await serve(['serve', '--port', '0', '--public-key', await exportSPKI(es.publicKey), '--public-key-alg', 'ES256', '--audience', AUD]);
    await expectAccepted(esSrv.url, await rsToken(claims(AUD), es.privateKey, 'ES256'));
    await expectRefused(esSrv.url, await rsToken(claims(AUD)), /^invalid token/);
    await stop(esSrv);
  });

  it('--jwks with a JSON file and with a URL (SIGNAL_JWKS too)', { timeout: 120_000 }, async () => {
    const k1 = await generateKeyPair('ES256');
    const k2 = await generateKeyPair('RS256');
    const jwks = {
      keys: [
        { ...(await exportJWK(k1.publicKey)), kid: 'k1', alg: 'ES256' },
        { ...(await exportJWK(k2.publicKey)), kid: 'k2', alg: 'RS256' },
      ],
    };
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(jwks));
    const http: Server = createServer((req, res) => {
      res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    try {
      const jwksUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/.well-known/jwks.json`;
      const t1 = await new SignJWT(claims(AUD)).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(k1.privateKey);
      const t2 = await new SignJWT(claims(AUD)).setProtectedHeader({ alg: 'RS256', kid: 'k2' }).sign(k2.privateKey);
      const wrongAud = await new SignJWT(claims('https://staging.example')).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(k1.privateKey);
      const stranger = await new SignJWT(claims(AUD))
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign((await generateKeyPair('ES256')).privateKey);
      for (const [args, env] of [
        [['--jwks', file], {}],
        [['--jwks', jwksUrl], {}],
        [[], { SIGNAL_JWKS: file }],
      ] as const) {
        const srv = await serve(['serve', '--port', '0', '--audience', AUD, ...args], env);
        expect(srv.err()).not.toMatch(/development secret/);
        await expectAccepted(srv.url, t1);
        await expectAccepted(srv.url, t2);
        await expectRefused(srv.url, wrongAud, /"aud"/);
        await expectRefused(srv.url, stranger, /^invalid token/);
        await expectRefused(srv.url, await hs(claims(AUD), DEV_SECRET), /^invalid token/);
        await stop(srv);
      }
    } finally {
      await new Promise<void>((r) => http.close(() => r()));
    }
  });

  it('several key sources, a bad algorithm, an unreadable PEM or JWKS, dev tokens without a secret: exit 2 with a clear message', { timeout: 180_000 }, async () => {
    const pem = await exportSPKI((await generateKeyPair('RS256')).publicKey);
    const pemFile = join(dir, 'several.pub.pem');
    writeFileSync(pemFile, pem);
    const jwksFile = join(dir, 'several.jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [] }));
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"keys": [');
    const notJwks = join(dir, 'not-jwks.json');
    writeFileSync(notJwks, '{"kty": "RSA"}');
    const several = /give exactly one of --secret, --public-key or --jwks/;
    await expectUsageError([
      { args: ['serve', '--secret', SECRET, '--public-key', pemFile], err: several },
      { args: ['serve', '--secret', SECRET, '--jwks', jwksFile], err: several },
      { args: ['serve', '--public-key', pemFile, '--jwks', jwksFile], err: several },
      { args: ['serve', '--public-key', pemFile], env: { SIGNAL_SECRET: SECRET }, err: /got --public-key, SIGNAL_SECRET|got SIGNAL_SECRET, --public-key/ },
      { args: ['serve'], env: { SIGNAL_SECRET: SECRET, SIGNAL_JWKS: jwksFile }, err: several },
      { args: ['serve', '--public-key', pemFile, '--public-key-alg', 'HS256'], err: /--public-key-alg must be one of RS256, ES256, PS256, EdDSA/ },
      { args: ['serve', '--secret', SECRET, '--public-key-alg', 'ES256'], err: /--public-key-alg needs --public-key/ },
      { args: ['serve', '--public-key', join(dir, 'missing.pem')], err: /--public-key: cannot read the PEM file/ },
      { args: ['serve', '--public-key', jwksFile], err: /--public-key: not an SPKI public key PEM/ },
      { args: ['serve', '--public-key', pemFile, '--public-key-alg', 'ES256'], err: /not an SPKI public key PEM for ES256/ },
      { args: ['serve', '--jwks', join(dir, 'missing.json')], err: /--jwks: cannot read a JSON key set/ },
      { args: ['serve', '--jwks', badJson], err: /--jwks: cannot read a JSON key set/ },
      { args: ['serve', '--jwks', notJwks], err: /is not a JWKS/ },
      { args: ['serve', '--public-key', pemFile, '--dev-tokens'], err: /--dev-tokens needs an HS256 secret/ },
      { args: ['serve', '--secret', SECRET, '--dev-tokens', '--audience', AUD, '--public-url', 'https://other.example'], err: /--dev-tokens: dev tokens carry aud/ },
    ]);
  });
});

describe('serve: dev tokens and the Host header', () => {
  it("--public-url: dev tokens' aud is it, never a forged Host header; a token for the forged host is refused", { timeout: 120_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--dev-tokens', '--public-url', AUD]);
    const forged = await postTokenWithHost(srv.url, 'evil.example', { identity: 'alice', device: 'web' });
    expect(forged.status).toBe(200);
    expect(decodeJwt(forged.json.token as string)).toMatchObject({ sub: 'alice/web', aud: AUD });
    // That dev token works (its aud is the audience checked); one minted for the forged host does not.
    await expectAccepted(srv.url, forged.json.token as string);
    await expectRefused(srv.url, await hs(claims('http://evil.example')), /"aud"/);
    await stop(srv);
  });

  it("--audience without --public-url: dev tokens' aud is the audience (else they would be refused), whatever the Host header", { timeout: 120_000 }, async () => {
    const srv = await serve(['serve', '--port', '0', '--secret', SECRET, '--dev-tokens', '--audience', AUD]);
    const forged = await postTokenWithHost(srv.url, 'evil.example:8080', { identity: 'bob', device: 'd' });
    expect(decodeJwt(forged.json.token as string)).toMatchObject({ sub: 'bob/d', aud: AUD });
    await expectAccepted(srv.url, forged.json.token as string);
    await expectRefused(srv.url, await hs(claims('http://evil.example:8080')), /"aud"/);
    await stop(srv);
  });
});
