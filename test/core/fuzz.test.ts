/** Random frames over a real socket: the server answers or ignores each, never crashes, keeps serving. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { RawPool, type RawClient } from '../compat/raw-client.js';

let srv: TestServer;
const pool = new RawPool();
beforeAll(async () => {
  srv = await startTestServer({ limits: { framesPerSecond: 1e6, frameBurst: 1e6 } });
});
afterAll(async () => {
  pool.closeAll();
  await srv.close();
});

const name = fc.oneof(fc.constantFrom('room', 'lobby', ''), fc.string({ maxLength: 5 }));
const call = fc.record({
  jsonrpc: fc.constant('2.0'),
  method: fc.constantFrom('signal.send', 'signal.join', 'signal.leave', 'signal.publish', 'signal.join_back', 'x'),
  params: fc.oneof(
    fc.record({
      to: fc.oneof(fc.constantFrom('fuzz', 'fuzz/d', 'witness', 'a/b/c/d', ''), fc.jsonValue()),
      id: fc.oneof(name, fc.jsonValue()),
      presence: fc.oneof(fc.boolean(), fc.jsonValue()),
      state: fc.jsonValue(),
      from: fc.string(),
    }, { requiredKeys: [] }),
    fc.jsonValue(),
  ),
  id: fc.oneof(fc.constant(undefined), fc.integer(), fc.string({ maxLength: 70 }), fc.jsonValue()),
}, { requiredKeys: ['method'] });
const frame = fc.oneof(call.map((c) => JSON.stringify(c)), fc.string({ maxLength: 50 }), fc.json(), fc.constant('_ping'));

describe('fuzz', () => {
  it('2000 random frames from 4 connections: every reply is well-formed, the server stays up', { timeout: 60_000 }, async () => {
    const conns: RawClient[] = [];
    for (let i = 0; i < 4; i++) conns.push(await pool.connect(srv.url, await srv.token('fuzz', 'd')));
    const witness = await pool.connect(srv.url, await srv.token('witness', 'w'));
    const frames = fc.sample(frame, 2000);
    frames.forEach((f, i) => conns[i % 4]!.send(f));
    for (const [i, c] of conns.entries()) {
      // Frames are handled in order: once the marker's reply is back, everything before it was handled.
      const marker = `marker-${i}`;
      c.send({ jsonrpc: '2.0', method: 'signal.leave', params: { id: 'never-joined' }, id: marker });
      for (let k = 0; k < 10_000; k++) {
        const f = await c.nextFrame(5000);
        if ((f.json as { id?: unknown } | undefined)?.id === marker) break;
      }
    }
    for (const c of conns) expect(c.isOpen).toBe(true);
    for (const c of [...conns, witness]) {
      for (const f of c.frames) {
        if (f.text === '_pong') continue;
        const j = f.json as Record<string, unknown>;
        expect(j.jsonrpc).toBe('2.0');
        if ('method' in j) expect(typeof j.params).toBe('object');
        else {
          expect('result' in j || 'error' in j).toBe(true);
          expect(['string', 'number']).toContain(typeof j.id);
        }
        if (j.method === 'signal.error' || 'error' in j) {
          const e = (j.method === 'signal.error' ? j.params : j.error) as { code: number; message: string };
          expect(e.code).toBeLessThan(-32000);
          expect(typeof e.message).toBe('string');
        }
      }
    }
    conns[0]!.notify('signal.send', { to: 'witness', last: true });
    for (;;) {
      const j = await witness.next(5000);
      if ((j.params as { last?: boolean }).last) break;
    }
    expect(srv.server.stats().connections).toBe(5);
  });
});
