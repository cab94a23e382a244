/**
 * The HTTP server API on a real server: every call, every refusal (status and code), hostile bodies, and
 * createServerClient against it.
 */
import { connect as tcpConnect } from 'node:net';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_FROM } from '../../src/client/index.js';
import { createServerClient } from '../../src/server/server-client.js';
import { ServerApiError } from '../../src/server/server-api-types.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool } from '../compat/raw-client.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { httpRequest } from './http-api-helpers.js';

const KEY = 'key-one-0123456789abcdef';
const KEY2 = 'key-two-0123456789abcdef';
let srv: TestServer;
const pool = new RawPool();
afterEach(async () => {
  pool.closeAll();
  await srv?.close();
});

const start = (extra: Parameters<typeof startTestServer>[0] = {}) => startTestServer({ apiKeys: [KEY, KEY2], ...extra });
const errorOf = (a: { json: unknown }) => (a.json as { error: { code: string; message: string } }).error;

describe('HTTP server API', () => {
  it('is off (404, the server\'s own) when no key is configured', async () => {
    srv = await startTestServer();
    for (const path of ['/api/v1/channels', '/api/v1/send', '/api/v1']) {
      const a = await httpRequest(srv.url, path, { key: KEY });
      expect(a.status).toBe(404);
      expect(a.json).toEqual({ error: 'not found' });
    }
  });

  it('every call works and its effect reaches the clients', async () => {
    srv = await start();
    const alice = await pool.connect(srv.url, await srv.token('alice', 'web'));
    const bob = await pool.connect(srv.url, await srv.token('bob', 'web'));
    alice.notify('signal.join', { id: 'a/b room', presence: true });
    bob.notify('signal.join', { id: 'a/b room', presence: true });
    await bob.next(); // join_back of alice
    await alice.next(); // join of bob
    const send = await httpRequest(srv.url, '/api/v1/send', { method: 'POST', key: KEY, body: JSON.stringify({ to: 'alice', payload: { text: 'hi' } }) });
    expect([send.status, send.json]).toEqual([200, { ok: true }]);
    expect(await alice.next()).toEqual({ jsonrpc: '2.0', method: 'signal.send', params: { text: 'hi', from: SERVER_FROM, to: 'alice' } });
    const pub = await httpRequest(srv.url, '/api/v1/publish', { method: 'POST', key: KEY2, body: JSON.stringify({ channel: 'a/b room', payload: { n: 1 } }) });
    expect([pub.status, pub.json]).toEqual([200, { ok: true }]);
    for (const c of [alice, bob]) expect(await c.next()).toEqual({ jsonrpc: '2.0', method: 'signal.publish', params: { n: 1, id: 'a/b room', from: SERVER_FROM } });
    const chans = await httpRequest(srv.url, '/api/v1/channels', { key: KEY });
    expect([chans.status, chans.json]).toEqual([200, { channels: [{ name: 'a/b room', members: 2, presence: 2 }] }]);
    const pres = await httpRequest(srv.url, `/api/v1/channels/${encodeURIComponent('a/b room')}/presence`, { key: KEY });
    expect(pres.status).toBe(200);
    expect((pres.json as { channel: string; members: { identity: string }[] }).members.map((m) => m.identity)).toEqual(['alice', 'bob']);
    expect((pres.json as { channel: string }).channel).toBe('a/b room');
    const unsub = await httpRequest(srv.url, '/api/v1/unsubscribe', { method: 'POST', key: KEY, body: JSON.stringify({ target: 'bob/web', channel: 'a/b room', reason: 'out' }) });
    expect([unsub.status, unsub.json]).toEqual([200, { ok: true }]);
    expect(await bob.next()).toEqual({ jsonrpc: '2.0', method: 'signal.unsubscribed', params: { id: 'a/b room', from: SERVER_FROM, reason: 'out' } });
    expect(await alice.next()).toEqual({ jsonrpc: '2.0', method: 'signal.leave', params: { id: 'a/b room', from: expect.stringMatching(/^bob\/web\//) } });
    const disc = await httpRequest(srv.url, '/api/v1/disconnect', { method: 'POST', key: KEY, body: JSON.stringify({ target: 'alice', code: 4100, reason: 'bye' }) });
    expect([disc.status, disc.json]).toEqual([200, { ok: true }]);
    expect(await alice.waitClose()).toEqual({ code: 4100, reason: 'bye' });
  });

  it('401 without a key, with a wrong key or another scheme; never says which part was wrong', async () => {
    srv = await start();
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${KEY}` }, { authorization: `Bearer ${KEY}x` }, { authorization: 'Bearer' }]) {
      const a = await httpRequest(srv.url, '/api/v1/channels', { headers });
      expect(a.status).toBe(401);
      expect(errorOf(a).code).toBe('unauthorized');
      expect(a.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // Before routing: an unknown route without a key is 401 too (routes are not probed without a key).
    expect((await httpRequest(srv.url, '/api/v1/nope')).status).toBe(401);
  });

  it('404 unknown route, 405 wrong method with Allow, 415 wrong content type', async () => {
    srv = await start();
    const nf = await httpRequest(srv.url, '/api/v1/nope', { key: KEY });
    expect([nf.status, errorOf(nf).code]).toEqual([404, 'not_found']);
    const get = await httpRequest(srv.url, '/api/v1/send', { key: KEY });
    expect([get.status, errorOf(get).code, get.headers.allow]).toEqual([405, 'method_not_allowed', 'POST']);
    const post = await httpRequest(srv.url, '/api/v1/channels', { method: 'POST', key: KEY, body: '{}' });
    expect([post.status, errorOf(post).code, post.headers.allow]).toEqual([405, 'method_not_allowed', 'GET']);
    const del = await httpRequest(srv.url, '/api/v1/channels/x/presence', { method: 'DELETE', key: KEY });
    expect([del.status, del.headers.allow]).toEqual([405, 'GET']);
    const text = await httpRequest(srv.url, '/api/v1/send', { method: 'POST', key: KEY, body: '{}', headers: { 'content-type': 'text/plain' } });
    expect([text.status, errorOf(text).code]).toEqual([415, 'unsupported_media_type']);
    const withCharset = await httpRequest(srv.url, '/api/v1/send', { method: 'POST', key: KEY, body: '{}', headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
    expect([withCharset.status, errorOf(withCharset).code]).toEqual([400, 'missing_field']);
  });

  it('400 with a code for each kind of bad input', async () => {
    srv = await start();
    const post = (path: string, body: string) => httpRequest(srv.url, path, { method: 'POST', key: KEY, body });
    const cases: [string, string, string][] = [
      ['/api/v1/send', '{"to":', 'bad_json'],
      ['/api/v1/send', '[1,2]', 'bad_json'],
      ['/api/v1/send', 'null', 'bad_json'],
      ['/api/v1/send', '{"payload":{}}', 'missing_field'],
      ['/api/v1/send', '{"to":"bob"}', 'missing_field'],
      ['/api/v1/send', '{"to":5,"payload":{}}', 'invalid_field'],
      ['/api/v1/send', '{"to":"a/b/c/d","payload":{}}', 'invalid_address'],
      ['/api/v1/send', '{"to":"\\ud800","payload":{}}', 'invalid_address'],
      ['/api/v1/send', '{"to":"$server","payload":{}}', 'invalid_address'],
      ['/api/v1/send', '{"to":"bob","payload":"text"}', 'invalid_payload'],
      ['/api/v1/send', '{"to":"bob","payload":{"from":"x"}}', 'invalid_payload'],
      ['/api/v1/publish', '{"channel":"\\udc00","payload":{}}', 'invalid_channel'],
      ['/api/v1/publish', `{"channel":"${'c'.repeat(257)}","payload":{}}`, 'invalid_channel'],
      ['/api/v1/publish', '{"channel":"","payload":{}}', 'invalid_channel'],
      ['/api/v1/publish', '{"channel":"r","payload":{"state":1}}', 'invalid_payload'],
      ['/api/v1/disconnect', '{}', 'missing_field'],
      ['/api/v1/disconnect', '{"target":"bob","code":"4000"}', 'invalid_field'],
      ['/api/v1/disconnect', '{"target":"bob","code":2000}', 'invalid_field'],
      ['/api/v1/disconnect', `{"target":"bob","reason":"${'r'.repeat(200)}"}`, 'invalid_field'],
      ['/api/v1/unsubscribe', '{"target":"bob"}', 'missing_field'],
      ['/api/v1/unsubscribe', '{"target":"bob","channel":"r","reason":7}', 'invalid_field'],
    ];
    for (const [path, body, code] of cases) {
      const a = await post(path, body);
      expect({ path, body: body.slice(0, 40), status: a.status, code: errorOf(a)?.code }).toEqual({ path, body: body.slice(0, 40), status: 400, code });
      expect(typeof errorOf(a).message).toBe('string');
    }
    // A channel name in the path that is not valid percent-encoded UTF-8 (a lone surrogate's bytes, a cut escape).
    for (const bad of ['%ED%A0%80', '%E0%A4%A', '%FF']) {
      const a = await httpRequest(srv.url, `/api/v1/channels/${bad}/presence`, { key: KEY });
      expect([a.status, errorOf(a).code]).toEqual([400, 'invalid_channel']);
    }
    const empty = await httpRequest(srv.url, '/api/v1/channels//presence', { key: KEY });
    expect([empty.status, errorOf(empty).code]).toEqual([400, 'invalid_channel']);
  });

  it('413: a payload whose frame is over the frame limit, a declared or streamed body over the body limit', async () => {
    srv = await start({ limits: { maxFrameBytes: 2048 } });
    const big = await httpRequest(srv.url, '/api/v1/publish', { method: 'POST', key: KEY, body: JSON.stringify({ channel: 'r', payload: { x: 'y'.repeat(3000) } }) });
    expect([big.status, errorOf(big).code]).toEqual([413, 'payload_too_large']);
    // Declared: refused before a byte of the body is read.
    const declared = await httpRequest(srv.url, '/api/v1/publish', { method: 'POST', key: KEY, headers: { 'content-type': 'application/json', 'content-length': String(1 << 30) } }).catch((e: Error) => e);
    if (!(declared instanceof Error)) expect([declared.status, errorOf(declared).code]).toEqual([413, 'body_too_large']);
    // Streamed (chunked, no length): cut once past the limit; the server never reads the gigabyte.
    const streamed = await new Promise<{ status: number; sent: number }>((resolve) => {
      let sent = 0;
      let status = 0;
      const req = request(new URL('/api/v1/publish', srv.url), { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
        status = res.statusCode ?? 0;
        res.resume();
      });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = (): void => {
        while (sent < 1 << 30 && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      req.on('error', () => resolve({ status, sent }));
      req.on('close', () => resolve({ status, sent }));
      pump();
    });
    expect(streamed.sent).toBeLessThan(64 << 20); // cut long before a gigabyte went out
    if (streamed.status !== 0) expect(streamed.status).toBe(413);
    // Still serving.
    expect((await httpRequest(srv.url, '/api/v1/channels', { key: KEY })).status).toBe(200);
  });

  it('a request reset mid-body, or a body that never ends, costs nothing: the server keeps serving', async () => {
    srv = await start();
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const s = tcpConnect(srv.port, '127.0.0.1', () => {
          s.write(`POST /api/v1/send HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"to":"bob","pay`);
          setTimeout(() => {
            s.resetAndDestroy();
            resolve();
          }, 5);
        });
        s.on('error', () => resolve());
      });
    }
    await sleep(100);
    const a = await httpRequest(srv.url, '/api/v1/channels', { key: KEY });
    expect(a.status).toBe(200);
  });

  it('408 body_timeout: a body that stops coming is answered within about 10 s and the connection closed', async () => {
    srv = await start();
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const s = tcpConnect(srv.port, '127.0.0.1', () => {
        s.write(`POST /api/v1/send HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"to":`);
      });
      s.on('data', (d) => (text += d.toString()));
      s.on('close', () => resolve(text));
      s.on('error', () => resolve(text));
      setTimeout(() => s.destroy(), 25_000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"body_timeout"');
  }, 30_000);

  it('createServerClient: the same calls, typed errors carrying code and status', async () => {
    srv = await start();
    const bob = await pool.connect(srv.url, await srv.token('bob', 'web'));
    bob.notify('signal.join', { id: 'room', presence: true });
    const api = createServerClient({ url: srv.url, apiKey: KEY });
    for (let i = 0; i < 200 && (await api.channels()).length === 0; i++) await sleep(10);
    await api.send('bob', { hello: 1 });
    expect(await bob.next()).toEqual({ jsonrpc: '2.0', method: 'signal.send', params: { hello: 1, from: SERVER_FROM, to: 'bob' } });
    await api.publish('room', { all: 1 });
    expect((await bob.next()).params).toEqual({ all: 1, id: 'room', from: SERVER_FROM });
    expect(await api.channels()).toEqual([{ name: 'room', members: 1, presence: 1 }]);
    expect((await api.presence('room')).map((m) => m.address)).toEqual([expect.stringMatching(/^bob\/web\//)]);
    await api.unsubscribe('bob', 'room');
    expect((await bob.next()).method).toBe('signal.unsubscribed');
    await api.disconnect('bob', { reason: 'done' });
    expect(await bob.waitClose()).toEqual({ code: 4403, reason: 'done' });

    const e1 = await api.send('$server', {}).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ServerApiError);
    expect([(e1 as ServerApiError).code, (e1 as ServerApiError).status]).toEqual(['invalid_address', 400]);
    const wrong = createServerClient({ url: srv.url, apiKey: 'wrong-key-0123456789' });
    const e2 = await wrong.channels().catch((e: unknown) => e);
    expect([(e2 as ServerApiError).code, (e2 as ServerApiError).status]).toEqual(['unauthorized', 401]);
    const url = srv.url;
    await srv.close();
    const e3 = await createServerClient({ url, apiKey: KEY, timeoutMs: 2000 }).channels().catch((e: unknown) => e);
    expect([(e3 as ServerApiError).code, (e3 as ServerApiError).status]).toEqual(['network', 0]);
  });
});
