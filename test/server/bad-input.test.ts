/**
 * Every bad input gets its exact error code (JSON-RPC error for a request, `signal.error` for a
 * notification) or close code, the offender stays connected unless the design says otherwise,
 * and another connected client still receives its messages afterwards.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR } from '../../src/protocol/constants.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { addressOf, RawPool, type RawClient } from '../compat/raw-client.js';

let srv: TestServer;
const pool = new RawPool();
let w1: RawClient;
let w2: RawClient;
let seq = 0;

beforeAll(async () => {
  srv = await startTestServer();
  w1 = await connectRaw('witness1', 'a');
  w2 = await connectRaw('witness2', 'b');
});
afterEach(async () => {
  // The witnesses are untouched by whatever the offender did.
  await witnessesStillServed();
});
afterAll(async () => {
  pool.closeAll();
  await srv.close();
});

async function connectRaw(identity: string, device: string): Promise<RawClient> {
  return pool.connect(srv.url, await srv.token(identity, device));
}

async function witnessesStillServed(): Promise<void> {
  const n = ++seq;
  w1.notify('signal.send', { to: 'witness2', n });
  expect(await w2.next()).toStrictEqual({
    jsonrpc: '2.0',
    method: 'signal.send',
    params: { to: 'witness2', n, from: expect.stringMatching(addressOf('witness1/a')) },
  });
  expect(await w1.drain(20)).toEqual([]);
  expect(await w2.drain(20)).toEqual([]);
}

/** The offender itself is still served after a refused frame. */
async function offenderStillServed(c: RawClient): Promise<void> {
  c.notify('signal.send', { to: 'witness1', ok: true });
  const f = await w1.next();
  expect(f.params).toMatchObject({ to: 'witness1', ok: true });
  c.send('_ping');
  expect((await c.nextFrame()).text).toBe('_pong');
  expect(c.isOpen).toBe(true);
}

const errorNote = (code: number, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  method: 'signal.error',
  params: { code, message: expect.any(String), ...extra },
});
const rpcError = (id: string | number, code: number) => ({ jsonrpc: '2.0', id, error: { code, message: expect.any(String) } });

describe('bad frames (the connection stays open)', () => {
  it('invalid JSON -> -32700 parse error', async () => {
    const c = await connectRaw('bad', 'x');
    c.send('{"jsonrpc":"2.0","method":');
    expect(await c.next()).toStrictEqual(errorNote(ERROR.PARSE));
    c.send('not json at all');
    expect(await c.next()).toStrictEqual(errorNote(ERROR.PARSE));
    await offenderStillServed(c);
  });

  it('a non-object -> -32600 invalid request', async () => {
    const c = await connectRaw('bad', 'x');
    for (const v of ['42', '"text"', 'null', 'true']) {
      c.send(v);
      expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_REQUEST));
    }
    await offenderStillServed(c);
  });

  it('a batch array -> -32600 invalid request, nothing in it runs', async () => {
    const c = await connectRaw('bad', 'x');
    c.send([{ jsonrpc: '2.0', method: 'signal.send', params: { to: 'witness2', batched: true } }]);
    expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_REQUEST));
    expect(await w2.drain(100)).toEqual([]);
    await offenderStillServed(c);
  });

  it('unknown method -> -32601 (notification: signal.error with method; request: JSON-RPC error)', async () => {
    const c = await connectRaw('bad', 'x');
    c.notify('signal.nope', {});
    expect(await c.next()).toStrictEqual(errorNote(ERROR.METHOD_NOT_FOUND, { method: 'signal.nope' }));
    c.send({ jsonrpc: '2.0', method: 'signal.nope', params: {}, id: 7 });
    expect(await c.next()).toStrictEqual(rpcError(7, ERROR.METHOD_NOT_FOUND));
    c.send({ jsonrpc: '2.0', params: {}, id: 'q1' });
    expect(await c.next()).toStrictEqual(rpcError('q1', ERROR.INVALID_REQUEST));
    // The server-to-client method names are not client calls.
    c.notify('signal.join_back', { id: 'room' });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.METHOD_NOT_FOUND, { method: 'signal.join_back' }));
    await offenderStillServed(c);
  });

  it('an invalid request id -> -32600', async () => {
    const c = await connectRaw('bad', 'x');
    c.send({ jsonrpc: '2.0', method: 'signal.send', params: { to: 'witness2' }, id: { x: 1 } });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_REQUEST));
    expect(await w2.drain(50)).toEqual([]);
    await offenderStillServed(c);
  });

  it('missing params -> -32602', async () => {
    const c = await connectRaw('bad', 'x');
    c.send({ jsonrpc: '2.0', method: 'signal.send' });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_PARAMS, { method: 'signal.send' }));
    c.send({ jsonrpc: '2.0', method: 'signal.join', params: [1], id: 3 });
    expect(await c.next()).toStrictEqual(rpcError(3, ERROR.INVALID_PARAMS));
    await offenderStillServed(c);
  });

  it('missing or invalid `to` -> -32602, nothing delivered', async () => {
    const c = await connectRaw('bad', 'x');
    const bad: unknown[] = [undefined, '', 42, null, { identity: 'w' }, 'a/b/c/d', 'a//b', '/a', 'witness2/', 'x'.repeat(600)];
    for (const to of bad) {
      c.notify('signal.send', to === undefined ? { text: 'no to' } : { to, text: 'bad to' });
      expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_PARAMS, { method: 'signal.send' }));
    }
    c.send({ jsonrpc: '2.0', method: 'signal.send', params: { to: 5 }, id: 'r' });
    expect(await c.next()).toStrictEqual(rpcError('r', ERROR.INVALID_PARAMS));
    expect(await w2.drain(50)).toEqual([]);
    await offenderStillServed(c);
  });

  it('missing or invalid channel id -> -32602 for join, leave, publish and in-channel send', async () => {
    const c = await connectRaw('bad', 'x');
    for (const method of ['signal.join', 'signal.leave', 'signal.publish']) {
      for (const id of [undefined, '', 'x'.repeat(257), 12, null, ['room'], { name: 'room' }]) {
        c.notify(method, id === undefined ? {} : { id });
        expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_PARAMS, { method }));
      }
    }
    for (const id of ['', 'x'.repeat(257), 12]) {
      c.notify('signal.send', { to: 'witness2', id });
      expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_PARAMS, { method: 'signal.send' }));
    }
    c.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: '' }, id: 1 });
    expect(await c.next()).toStrictEqual(rpcError(1, ERROR.INVALID_PARAMS));
    c.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'ok', presence: 'yes' }, id: 2 });
    expect(await c.next()).toStrictEqual(rpcError(2, ERROR.INVALID_PARAMS));
    // The longest allowed name works.
    c.send({ jsonrpc: '2.0', method: 'signal.join', params: { id: 'x'.repeat(256) }, id: 3 });
    expect(await c.next()).toMatchObject({ jsonrpc: '2.0', id: 3, result: { id: 'x'.repeat(256) } });
    expect(await w2.drain(50)).toEqual([]);
    await offenderStillServed(c);
  });

  it('publish, leave or in-channel send without having joined -> -32006 with the channel', async () => {
    const c = await connectRaw('bad', 'x');
    w2.notify('signal.join', { id: 'theirs', presence: true });
    await w2.drain(50);
    c.notify('signal.publish', { id: 'theirs', text: 'intrude' });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.NOT_JOINED, { method: 'signal.publish', id: 'theirs' }));
    c.notify('signal.leave', { id: 'theirs' });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.NOT_JOINED, { method: 'signal.leave', id: 'theirs' }));
    c.notify('signal.send', { to: 'witness2', id: 'theirs', text: 'intrude' });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.NOT_JOINED, { method: 'signal.send', id: 'theirs' }));
    c.send({ jsonrpc: '2.0', method: 'signal.publish', params: { id: 'theirs' }, id: 9 });
    expect(await c.next()).toStrictEqual(rpcError(9, ERROR.NOT_JOINED));
    expect(await w2.drain(50)).toEqual([]);
    w2.notify('signal.leave', { id: 'theirs' });
    await offenderStillServed(c);
  });

  it('params nested too deeply to re-encode -> -32602, nothing delivered', async () => {
    const c = await connectRaw('deep', 'x');
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    c.send(`{"jsonrpc":"2.0","method":"signal.send","params":{"to":"witness2","x":${deep}}}`);
    expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_PARAMS, { method: 'signal.send' }));
    c.send(`{"jsonrpc":"2.0","method":"signal.join","params":{"id":"deep"},"id":1}`);
    expect(await c.next()).toMatchObject({ id: 1, result: { id: 'deep' } });
    c.send(`{"jsonrpc":"2.0","method":"signal.publish","params":{"id":"deep","x":${deep}},"id":2}`);
    expect(await c.next()).toStrictEqual(rpcError(2, ERROR.INVALID_PARAMS));
    expect(await w2.drain(50)).toEqual([]);
    await offenderStillServed(c);
  });

  it('a binary frame -> -32600, never closes', async () => {
    const c = await connectRaw('bad', 'x');
    c.ws.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'signal.send', params: { to: 'witness2' } })), { binary: true });
    expect(await c.next()).toStrictEqual(errorNote(ERROR.INVALID_REQUEST));
    expect(await w2.drain(50)).toEqual([]);
    await offenderStillServed(c);
  });
});

describe('fatal input (the connection is closed with a code)', () => {
  it('an oversize frame -> close 1009', async () => {
    const c = await connectRaw('big', 'x');
    c.notify('signal.send', { to: 'witness2', blob: 'x'.repeat(64 * 1024) });
    expect((await c.waitClose()).code).toBe(1009);
    expect(await w2.drain(50)).toEqual([]);
  });

  it('a frame just under the limit is delivered', async () => {
    const c = await connectRaw('big', 'x');
    const blob = 'y'.repeat(64 * 1024 - 200);
    c.notify('signal.send', { to: 'witness2', blob });
    const f = await w2.next();
    expect((f.params as { blob: string }).blob).toBe(blob);
    expect(c.isOpen).toBe(true);
  });

  it('a flood -> -32003 rate limited past the burst, then close 4429', async () => {
    const c = await connectRaw('flood', 'x');
    for (let i = 0; i < 500; i++) c.notify('signal.send', { to: 'nobody', i });
    const { code } = await c.waitClose(5000);
    expect(code).toBe(4429);
    const limited = c.frames.filter((f) => (f.json as { params?: { code?: number } })?.params?.code === ERROR.RATE_LIMITED);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.json).toStrictEqual(errorNote(ERROR.RATE_LIMITED, { method: 'signal.send' }));
  });

  it('a ping flood is a flood too', async () => {
    const c = await connectRaw('flood', 'p');
    for (let i = 0; i < 2000; i++) c.send('_ping');
    expect((await c.waitClose(5000)).code).toBe(4429);
  });
});

describe('the offender is alone: a refused frame does not disturb its channels', () => {
  it('errors in between keep channel membership and order', async () => {
    const c = await connectRaw('mixed', 'x');
    const cAddr = addressOf('mixed/x');
    c.notify('signal.join', { id: 'mix', presence: true });
    w2.notify('signal.join', { id: 'mix', presence: true });
    expect(await w2.next()).toStrictEqual({ jsonrpc: '2.0', method: 'signal.join_back', params: { id: 'mix', from: expect.stringMatching(cAddr) } });
    await c.next(); // join of w2
    c.send('garbage');
    c.notify('signal.publish', { id: 'mix', n: 1 });
    c.send('[]');
    c.notify('signal.publish', { id: 'mix', n: 2 });
    expect((await c.next()).params).toMatchObject({ code: ERROR.PARSE });
    expect((await c.next()).params).toMatchObject({ code: ERROR.INVALID_REQUEST });
    expect((await w2.next()).params).toMatchObject({ id: 'mix', n: 1 });
    expect((await w2.next()).params).toMatchObject({ id: 'mix', n: 2 });
    c.terminate();
    expect(await w2.next()).toStrictEqual({ jsonrpc: '2.0', method: 'signal.leave', params: { id: 'mix', from: expect.stringMatching(cAddr) } });
    w2.notify('signal.leave', { id: 'mix' });
  });
});
