/**
 * The Node server checks HS256 signatures synchronously (src/server/hmac-check.ts) and hands the claims to jose's own
 * claim checks; the in-page server goes through jose's `jwtVerify`. Both must accept and refuse the same tokens, with
 * the same messages. Each crafted token below goes through both verifiers.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createVerifier, type AuthOptions } from '../../src/server/auth.js';
import { hmacCheck } from '../../src/server/hmac-check.js';

const SECRET = 'hs256-paths-secret';
const key = new TextEncoder().encode(SECRET);
const b64u = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }): Promise<string> =>
  new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
/** A token with `header` and `payload` parts as given, signed with HS256 over exactly those parts. */
async function rawSigned(headerPart: string, payloadPart: string, secret = key): Promise<string> {
  const { createHmac } = await import('node:crypto');
  return `${headerPart}.${payloadPart}.${createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest('base64url')}`;
}

async function outcome(verify: (jwt: string) => Promise<unknown>, jwt: string): Promise<string> {
  try {
    const v = (await verify(jwt)) as { identity: string; device: string };
    return `ok ${v.identity}/${v.device}`;
  } catch (e) {
    return `${(e as Error).name}${(e as { unavailable?: boolean }).unavailable ? ' (unavailable)' : ''}: ${(e as Error).message}`;
  }
}

async function tokens(): Promise<[string, string][]> {
  const exp = nowS() + 600;
  const good = await sign({ sub: 'alice/web', exp, aud: 'http://s', iss: 'me' });
  const [h, p, s] = good.split('.') as [string, string, string];
  const flip = (x: string): string => (x[0] === 'A' ? 'B' : 'A') + x.slice(1);
  return [
    ['good', good],
    ['tampered payload', `${h}.${b64u({ sub: 'mallory/web', exp, aud: 'http://s', iss: 'me' })}.${s}`],
    ['flipped signature', `${h}.${p}.${flip(s)}`],
    ['signature with a trailing character', `${h}.${p}.${s}A`],
    ['empty signature', `${h}.${p}.`],
    ['other secret', await rawSigned(h, p, new TextEncoder().encode('other'))],
    ['alg none', `${b64u({ alg: 'none' })}.${p}.`],
    ['alg HS512', await sign({ sub: 'alice/web', exp, aud: 'http://s', iss: 'me' }, { alg: 'HS512' })],
    ['crit header', await rawSigned(b64u({ alg: 'HS256', crit: ['x'], x: 1 }), p)],
    ['b64 false', await rawSigned(b64u({ alg: 'HS256', b64: false, crit: ['b64'] }), p)],
    ['header not base64 JSON', await rawSigned('!!!', p)],
    ['header JSON not an object', await rawSigned(b64u('"x"'), p)],
    ['payload not JSON', await rawSigned(h, b64u('not json'))],
    ['payload an array', await rawSigned(h, b64u([1, 2]))],
    ['four parts', `${good}.x`],
    ['two parts', `${h}.${p}`],
    ['expired', await sign({ sub: 'alice/web', exp: nowS() - 5, aud: 'http://s', iss: 'me' })],
    ['exp a string', await rawSigned(h, b64u({ sub: 'alice/web', exp: String(exp), aud: 'http://s', iss: 'me' }))],
    ['no exp', await sign({ sub: 'alice/web', aud: 'http://s', iss: 'me' })],
    ['nbf ahead', await sign({ sub: 'alice/web', exp, nbf: nowS() + 600, aud: 'http://s', iss: 'me' })],
    ['nbf within skew', await sign({ sub: 'alice/web', exp, nbf: nowS() + 10, aud: 'http://s', iss: 'me' })],
    ['iat ahead', await sign({ sub: 'alice/web', exp, iat: nowS() + 600, aud: 'http://s', iss: 'me' })],
    ['wrong audience', await sign({ sub: 'alice/web', exp, aud: 'http://other', iss: 'me' })],
    ['audience list', await sign({ sub: 'alice/web', exp, aud: ['x', 'http://s'], iss: 'me' })],
    ['no audience', await sign({ sub: 'alice/web', exp, iss: 'me' })],
    ['wrong issuer', await sign({ sub: 'alice/web', exp, aud: 'http://s', iss: 'you' })],
    ['sub without device', await sign({ sub: 'alice', exp, aud: 'http://s', iss: 'me' })],
    ['sub $server', await sign({ sub: '$server/x', exp, aud: 'http://s', iss: 'me' })],
    ['header typ JWT and kid', await sign({ sub: 'alice/web', exp, aud: 'http://s', iss: 'me' }, { alg: 'HS256', typ: 'JWT', kid: 'k1' })],
  ];
}

describe('HS256: the synchronous path and jose agree', () => {
  for (const [name, opts] of [
    ['audience and issuer configured', { secret: SECRET, audience: 'http://s', issuer: 'me' }],
    ['nothing but the secret', { secret: SECRET }],
  ] as [string, AuthOptions][]) {
    it(`every crafted token gets the same answer from both (${name})`, async () => {
      const viaJose = createVerifier(opts);
      const viaSync = createVerifier(opts, hmacCheck);
      const rows = await tokens();
      const answers = await Promise.all(rows.map(async ([label, jwt]) => [label, await outcome(viaJose, jwt), await outcome(viaSync, jwt)]));
      expect(answers.filter(([, a, b]) => a !== b)).toEqual([]);
      // The list is not vacuous: some tokens are accepted, most refused, and no refusal claims the keys are unavailable.
      const oks = answers.filter(([, a]) => a!.startsWith('ok ')).length;
      expect(oks).toBeGreaterThanOrEqual(3);
      expect(answers.length - oks).toBeGreaterThanOrEqual(15);
      expect(answers.some(([, , b]) => b!.includes('(unavailable)'))).toBe(false);
    });
  }
});
