/**
 * The HTTP side of createSignalServer: /healthz, the dev token endpoint (aud from the Host header
 * or publicUrl, CORS, limits), attach() on an existing server, and close() with 1001.
 */
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { decodeJwt, exportSPKI, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { Signal } from '../../src/client/index.js';
import { createSignalServer, type SignalServer } from '../../src/server/index.js';
import { NodeWebSocket } from '../../src/testing/index.js';
import { RawPool } from '../compat/raw-client.js';
import { waitFor } from '../helpers/wait.js';

const servers: SignalServer[] = [];
const pool = new RawPool();
const clients: Signal[] = [];
let plain: Server | null = null;
afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  pool.closeAll();
  for (const s of servers.splice(0)) await s.close();
  if (plain) await new Promise<void>((r) => plain!.close(() => r()));
  plain = null;
});

async function start(opts: Parameters<typeof createSignalServer>[0]): Promise<{ s: SignalServer; url: string; port: number }> {
  const s = createSignalServer(opts);
  servers.push(s);
  const { url, port } = await s.listen(0, '127.0.0.1');
  return { s, url, port };
}

function raw(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Write a raw HTTP request and return the status line of the answer ('' when the socket just closed). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let b = '';
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('data', (d: Buffer) => (b += d.toString()));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(b.split('\r\n')[0] ?? '');
    });
  });
}

describe('HTTP endpoints', () => {
  it('a malformed request URL gets 400 (plain or upgrade) and never takes the server down', async () => {
    const { port, url } = await start({ secret: 's', devTokens: true });
    const upgrade = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
    for (const target of ['http://[', 'http://%zz/', 'http://a b/']) {
      expect(await rawHttp(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
      expect(await rawHttp(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('dev tokens: aud from the Host header, else publicUrl; CORS preflight; limits', async () => {
    const { port } = await start({ secret: 's', devTokens: true });
    const viaLocalhost = await raw(port, 'POST', '/token', '{"identity":"a","device":"b"}', { host: `localhost:${port}` });
    expect(viaLocalhost.status).toBe(200);
    expect(decodeJwt((JSON.parse(viaLocalhost.body) as { token: string }).token)).toMatchObject({ sub: 'a/b', aud: `http://localhost:${port}` });
    const odd = await raw(port, 'POST', '/token', '{"identity":"a"}', { host: 'evil.example/path' });
    expect(decodeJwt((JSON.parse(odd.body) as { token: string }).token).aud).toBe(`http://127.0.0.1:${port}`);
    const pre = await raw(port, 'OPTIONS', '/token', undefined, { origin: 'http://app.example', 'access-control-request-method': 'POST' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect((await raw(port, 'POST', '/token', JSON.stringify({ identity: 'a', pad: 'x'.repeat(5000) }))).status).toBe(413);
    expect((await raw(port, 'POST', '/token', '{"identity":42}')).status).toBe(400);
    for (const body of ['null', '[]', '"x"', '7', '{"identity":"a","device":{}}', '{"identity":"a","claims":{"sub":"x"}}']) {
      expect((await raw(port, 'POST', '/token', body)).status, body).toBeGreaterThanOrEqual(200);
    }
    expect((await raw(port, 'POST', '/token', 'null')).status).toBe(400);
    expect((await raw(port, 'GET', '/healthz')).status).toBe(200); // still alive

    const fixed = await start({ secret: 's', devTokens: true, publicUrl: 'https://signal.example' });
    const t = await raw(fixed.port, 'POST', '/token', '{"identity":"a"}', { host: `localhost:${fixed.port}` });
    expect(decodeJwt((JSON.parse(t.body) as { token: string }).token).aud).toBe('https://signal.example');
  });

  it('dev tokens need an HS256 secret (501 otherwise); healthz reports counts', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const { port, url } = await start({ publicKey: await exportSPKI(publicKey), devTokens: true });
    expect((await raw(port, 'POST', '/token', '{"identity":"a"}')).status).toBe(501);
    const h = await fetch(`${url}/healthz`);
    expect(h.headers.get('content-type')).toMatch(/application\/json/);
    expect(await h.json()).toEqual({ ok: true, connections: 0, channels: 0 });
  });

  it('attach() serves the protocol on an existing HTTP server; close() closes sockets with 1001', async () => {
    const s = createSignalServer({ secret: 'attached', devTokens: true, publicUrl: 'http://placeholder' });
    servers.push(s);
    plain = createServer((req, res) => {
      if (s.handleRequest(req, res)) return;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('app');
    });
    s.attach(plain);
    await new Promise<void>((r) => plain!.listen(0, '127.0.0.1', () => r()));
    const port = (plain.address() as { port: number }).port;
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/`)).text()).toBe('app');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const tok = (JSON.parse((await raw(port, 'POST', '/token', '{"identity":"a","device":"d"}')).body) as { token: string }).token;
    const sig = new Signal(tok, { WebSocket: NodeWebSocket, url: `ws://127.0.0.1:${port}/signal/v1/pubsub`, reconnect: false });
    clients.push(sig);
    await waitFor(() => sig.state === 'open');
    const c = await pool.connect(base, tok);
    expect(s.stats()).toMatchObject({ connections: 2, sockets: 2 });
    servers.splice(servers.indexOf(s), 1);
    await s.close();
    expect((await c.waitClose()).code).toBe(1001);
    await waitFor(() => sig.state === 'closed');
    // The host app keeps serving HTTP; new upgrades are refused.
    expect(await (await fetch(`${base}/`)).text()).toBe('app');
    const late = pool.add((await import('../compat/raw-client.js')).rawSocket(base, tok));
    await expect(late.opened).rejects.toThrow();
  });
});
