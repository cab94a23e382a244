/** Admission, written once for both servers: URL reading, token refusals and their close codes, the caps. */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { authenticate, closeReason, isRefusal, parseConnectUrl } from '../../src/server/admission.js';
import { createVerifier, signAccessToken, TokenError } from '../../src/server/auth.js';
import { createInPageServer } from '../../src/server/in-page.js';
import { createSignalServer } from '../../src/server/index.js';

describe('parseConnectUrl', () => {
  it('reads jwt and replaces on both paths; 404 for another path, 400 for a URL that cannot be parsed', () => {
    expect(parseConnectUrl('/signal/v1/pubsub?jwt=a.b.c&replaces=al%2Fw%2Fr1')).toEqual({ jwt: 'a.b.c', replaces: 'al/w/r1' });
    expect(parseConnectUrl('/v1/signal/pubsub?jwt=x')).toEqual({ jwt: 'x', replaces: null });
    expect(parseConnectUrl('ws://h:1/base/signal/v1/pubsub')).toEqual({ jwt: '', replaces: null });
    expect(parseConnectUrl('/nope?jwt=x')).toEqual({ status: 404 });
    expect(parseConnectUrl('//[')).toEqual({ status: 400 });
  });
});

describe('authenticate', () => {
  const secret = 's'.repeat(32);
  const verify = createVerifier({ secret });
  it('a good token verifies; a bad one is 4401 with the reason; unavailable keys are 1011', async () => {
    const ok = await authenticate(verify, await signAccessToken({ secret, identity: 'a', device: 'd', audience: 'http://x' }));
    expect(isRefusal(ok)).toBe(false);
    expect(ok).toMatchObject({ identity: 'a', device: 'd' });
    expect(await authenticate(verify, '')).toEqual({ code: 4401, reason: 'missing token' });
    const expired = await signAccessToken({ secret, identity: 'a', device: 'd', audience: 'http://x', expiresIn: -10 });
    expect(await authenticate(verify, expired)).toEqual({ code: 4401, reason: 'token expired' });
    const down = async (): Promise<never> => {
      throw new TokenError('token keys unavailable: JWKS timeout', true);
    };
    expect(await authenticate(down, 'x')).toEqual({ code: 1011, reason: 'token keys unavailable: JWKS timeout' });
  });

  it('closeReason keeps at most 123 bytes of UTF-8, cut at a character', () => {
    expect(closeReason('é'.repeat(100))).toBe('é'.repeat(61));
    expect(closeReason('short')).toBe('short');
  });
});

describe('the Node and in-page servers admit alike', () => {
  it('the same refusals, with the same codes and reasons', { timeout: 20_000 }, async () => {
    const secret = 'k'.repeat(32);
    const limits = { maxConnectionsPerIdentity: 1 };
    const node = createSignalServer({ secret, limits });
    const { url } = await node.listen(0, '127.0.0.1');
    const page = createInPageServer({ secret, audience: url, limits });
    const closeOf = (ws: { onclose: ((ev: { code: number; reason: string }) => void) | null; onerror: ((ev: unknown) => void) | null }): Promise<{ code: number; reason: string }> =>
      new Promise((resolve) => {
        ws.onerror = () => {};
        ws.onclose = (ev) => resolve({ code: ev.code, reason: ev.reason });
      });
    const base = `${url.replace('http', 'ws')}/signal/v1/pubsub?jwt=`;
    const expired = await signAccessToken({ secret, identity: 'a', device: 'd', audience: url, expiresIn: -10 });
    const good = await signAccessToken({ secret, identity: 'b', device: 'd', audience: url });
    const out: Record<string, { code: number; reason: string }[]> = { node: [], page: [] };
    for (const [name, Ctor] of [['node', WebSocket], ['page', page.WebSocket]] as const) {
      out[name]!.push(await closeOf(new (Ctor as typeof WebSocket)(base + 'forged') as never));
      out[name]!.push(await closeOf(new (Ctor as typeof WebSocket)(base + expired) as never));
      const first = new (Ctor as typeof WebSocket)(base + good);
      await new Promise<void>((r) => ((first as unknown as { onopen: () => void }).onopen = () => r()));
      out[name]!.push(await closeOf(new (Ctor as typeof WebSocket)(base + good) as never));
      first.close();
    }
    expect(out.page).toEqual(out.node);
    expect(out.node.map((c) => c.code)).toEqual([4401, 4401, 4430]);
    await page.close();
    await node.close();
  });
});
