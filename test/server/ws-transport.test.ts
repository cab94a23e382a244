import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { waitFor } from '../helpers/wait.js';

let srv: TestServer;
afterEach(async () => srv?.close());

// The ws transport writes pre-built frame bytes (a latin1 string for ASCII frames under 64 KiB, a Buffer
// otherwise), corked per tick. Every header size and both encodings must reach a real client intact and in order.
describe('ws transport fast path', () => {
  it('delivers ASCII and non-ASCII frames of every header size, in order, to every member', async () => {
    srv = await startTestServer({ limits: { framesPerSecond: 10_000, frameBurst: 10_000 } });
    const [a, b, c] = await Promise.all([srv.connect('a', 'x'), srv.connect('b', 'x'), srv.connect('c', 'x')]);
    const chans = [a.join('room'), b.join('room'), c.join('room')];
    await Promise.all(chans.map((ch) => ch.ready));
    const texts = [
      'short',
      'x'.repeat(200), // 126-byte header form
      'y'.repeat(60_000), // largest 16-bit length, still ASCII
      'héllo ✓ 日本語 🎉', // non-ASCII: the Buffer path
      'z'.repeat(300) + '✓',
    ];
    const got: Record<string, string[]> = { b: [], c: [] };
    chans[1]!.on('message', (m) => got.b!.push((m as { text: string }).text));
    chans[2]!.on('message', (m) => got.c!.push((m as { text: string }).text));
    for (let round = 0; round < 3; round++) for (const text of texts) chans[0]!.publish({ text });
    const want = [...texts, ...texts, ...texts];
    await waitFor(() => got.b!.length === want.length && got.c!.length === want.length, 5000, 'all frames');
    expect(got.b).toEqual(want);
    expect(got.c).toEqual(want);
    // A direct message after the burst still arrives (the socket was uncorked).
    const dms: unknown[] = [];
    b.on('message', (m) => dms.push(m));
    a.send({ to: 'b', text: 'ü after burst' });
    await waitFor(() => dms.length === 1);
    expect(dms[0]).toMatchObject({ text: 'ü after burst' });
  });
});
