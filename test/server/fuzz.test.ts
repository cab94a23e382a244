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

// ---- frames at the WebSocket level: binary, fragmented, invalid UTF-8, junk (a raw TCP client framing by hand) ----

/** One client frame, masked as RFC 6455 requires: `fin`, `opcode` (1 text, 2 binary, 0 continuation, 9 ping). */
function wsFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.alloc(head + 4 + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (head === 2) out[1] = 0x80 | len;
  else if (head === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

/** A raw TCP WebSocket client: upgrade, write frames as given, record the server's frames (unmasked) and close code. */
async function tcpWs(port: number, jwt: string): Promise<{ write(b: Buffer): void; texts: string[]; closed: Promise<number | null>; end(): void }> {
  const { connect } = await import('node:net');
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  let buf = Buffer.alloc(0);
  let upgraded = false;
  const texts: string[] = [];
  let closeCode: number | null = null;
  const closed = new Promise<number | null>((resolve) => sock.on('close', () => resolve(closeCode)));
  const opened = new Promise<void>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, 12).toString().includes('101')) return reject(new Error(buf.toString()));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve();
      }
      // Server frames are unmasked; parse whole ones.
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const op = buf[0]! & 0x0f;
        const payload = buf.subarray(off, off + len);
        if (op === 1) texts.push(payload.toString());
        if (op === 8) closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        buf = buf.subarray(off + len);
      }
    });
  });
  sock.write(
    `GET /signal/v1/pubsub?jwt=${jwt} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await opened;
  return { write: (b) => sock.write(b), texts, closed, end: () => sock.destroy() };
}

const textOf = (s: string): Buffer => Buffer.from(s, 'utf8');
/** One step a hostile client may take at the frame level. */
const step = fc.oneof(
  fc.record({ k: fc.constant('binary' as const), data: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ k: fc.constant('fragmented' as const), text: fc.constantFrom('{"jsonrpc":"2.0","method":"signal.join","params":{"id":"frag"},"id":"f"}', '_ping', '{"broken'), parts: fc.integer({ min: 2, max: 6 }) }),
  fc.record({ k: fc.constant('badutf8' as const), bytes: fc.constantFrom([0xc3, 0x28], [0xed, 0xa0, 0x80], [0xff], [0xe2, 0x82]) }),
  fc.record({ k: fc.constant('surrogate' as const), name: fc.constantFrom('room\\ud800', '\\udfffx', 'a\\ud83d') }),
  fc.record({ k: fc.constant('junk' as const), data: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ k: fc.constant('text' as const), text: fc.string({ maxLength: 40 }) }),
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(s: Step): Buffer {
  switch (s.k) {
    case 'binary':
      return wsFrame(2, Buffer.from(s.data));
    case 'fragmented': {
      const b = textOf(s.text);
      const size = Math.ceil(b.length / s.parts);
      const out: Buffer[] = [];
      for (let i = 0; i * size < b.length; i++) {
        const last = (i + 1) * size >= b.length;
        out.push(wsFrame(i === 0 ? 1 : 0, b.subarray(i * size, (i + 1) * size), last));
      }
      return Buffer.concat(out);
    }
    case 'badutf8':
      return wsFrame(1, Buffer.concat([textOf('{"x":"'), Buffer.from(s.bytes), textOf('"}')]));
    case 'surrogate':
      return wsFrame(1, textOf(`{"jsonrpc":"2.0","method":"signal.join","params":{"id":"${s.name}"},"id":"s"}`));
    case 'junk':
      return Buffer.from(s.data);
    case 'text':
      return wsFrame(1, textOf(s.text));
  }
}

describe('fuzz at the frame level', () => {
  it('binary, fragmented, invalid UTF-8, lone-surrogate and junk frames: replies or a protocol close, never a crash', { timeout: 240_000 }, async () => {
    const witness = await pool.connect(srv.url, await srv.token('witness2', 'w'));
    const jwt = await srv.token('hostile', 'd');
    let closes = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const c = await tcpWs(srv.port, jwt);
        for (const s of steps) c.write(bytesOf(s));
        // A marker request after the steps: answered unless a step made the server close the connection.
        c.write(wsFrame(1, textOf('{"jsonrpc":"2.0","method":"signal.leave","params":{"id":"nope"},"id":"end"}')));
        const deadline = Date.now() + 3000;
        let code: number | null | undefined;
        void c.closed.then((v) => (code = v));
        while (Date.now() < deadline && code === undefined && !c.texts.some((t) => t.includes('"id":"end"'))) await new Promise((r) => setTimeout(r, 5));
        const closedByServer = code !== undefined;
        c.end();
        await c.closed;
        if (closedByServer) {
          closes++;
          // Only a frame-level fault closes: invalid UTF-8 (1007), a protocol error (1002), too large (1009).
          expect([1002, 1007, 1009, null]).toContain(code);
          expect(steps.some((s) => s.k === "badutf8" || s.k === "junk"), `closed with ${code}: ${JSON.stringify(steps)} ${c.texts.join(" | ")}`).toBe(true);
        } else if (!c.texts.some((t) => t.includes('"id":"end"'))) {
          // Junk may promise a longer frame than it sends: the server then waits for the rest (the marker became
          // part of it), which is correct. Anything else must have answered the marker.
          expect(steps.some((s) => s.k === 'junk'), `no answer: ${JSON.stringify(steps)}`).toBe(true);
        }
        for (const t of c.texts) {
          if (t === '_pong') continue;
          const j = JSON.parse(t) as { jsonrpc?: string; error?: { code: number }; params?: { code?: number } };
          expect(j.jsonrpc).toBe('2.0');
        }
        // A fragmented join was assembled and answered as one frame; a lone surrogate name refused with -32602.
        for (const t of c.texts.filter((x) => x.includes('"id":"s"'))) expect(JSON.parse(t).error.code).toBe(-32602);
      }),
      { numRuns: 40 },
    );
    expect(closes).toBeGreaterThan(0); // the generator did reach the closing faults
    witness.notify('signal.send', { to: 'witness2', ping: 1 }); // DMs never echo to the sender: use a second socket
    const other = await pool.connect(srv.url, await srv.token('other', 'o'));
    other.notify('signal.send', { to: 'witness2', alive: true });
    const j = await witness.next(5000);
    expect((j.params as { alive?: boolean }).alive).toBe(true);
  });
});
