/**
 * The `ws` fast path sits behind one named check (`canWriteDirect`): these tests assert which path ran for a real
 * socket, and that the fallback (`ws.send`) delivers the same frames, in order, when the check says no.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { outFrame } from '../../src/server/session.js';
import { canWriteDirect, wsTransport } from '../../src/server/ws-transport.js';
import { waitFor } from '../helpers/wait.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A real ws server and client; resolves with the server side's socket and what the client receives. */
async function pair(perMessageDeflate = false): Promise<{ server: WebSocket; got: string[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate });
  const got: string[] = [];
  client.on('message', (d) => got.push(d.toString()));
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  cleanup.push(() => {
    client.terminate();
    server.terminate();
    wss.close();
  });
  return { server, got };
}

const texts = ['short', 'x'.repeat(300), 'héllo ✓ 🎉', 'y'.repeat(70_000)];

describe('canWriteDirect', () => {
  it('a plain ws 8 socket takes the fast path: frames go to the TCP socket, never through ws.send', async () => {
    const { server, got } = await pair();
    expect(canWriteDirect(server)).toBe(true);
    const send = vi.spyOn(server, 'send');
    const t = wsTransport(server);
    for (const text of texts) t.send(outFrame(text));
    await waitFor(() => got.length === texts.length, 5000, 'every frame');
    expect(got).toEqual(texts);
    expect(send).not.toHaveBeenCalled();
  });

  it('with permessage-deflate the check says no, and ws.send delivers every frame in order', async () => {
    const { server, got } = await pair(true);
    expect(server.extensions).toContain('permessage-deflate');
    expect(canWriteDirect(server)).toBe(false);
    const send = vi.spyOn(server, 'send');
    const t = wsTransport(server);
    for (const text of texts) t.send(outFrame(text));
    await waitFor(() => got.length === texts.length, 5000, 'every frame');
    expect(got).toEqual(texts);
    expect(send).toHaveBeenCalledTimes(texts.length);
  });

  it('internals that do not look like ws 8 (another version) fall back to ws.send', async () => {
    const { server, got } = await pair();
    const internals = server as unknown as { _sender: { _queue?: unknown } };
    const queue = internals._sender._queue;
    internals._sender._queue = undefined; // as if a future ws renamed it
    expect(canWriteDirect(server)).toBe(false);
    const t = wsTransport(server);
    internals._sender._queue = queue; // ws itself needs it back to send
    const send = vi.spyOn(server, 'send');
    for (const text of texts) t.send(outFrame(text));
    await waitFor(() => got.length === texts.length, 5000, 'every frame');
    expect(got).toEqual(texts);
    expect(send).toHaveBeenCalledTimes(texts.length);
  });
});
