/**
 * Our client swaps tokens on the open connection (`signal.refresh`, extension) before the server would close it at
 * `exp`: no reconnect, no lost channel, no presence flap. Against a server without the extension it reconnects at
 * `exp` with the new token, as the Bit6 SDK does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AccessToken, Signal, type ConnectionState, type SignalError } from '../../src/client/index.js';
import { createInPageServer, type InPageServer } from '../../src/server/in-page.js';
import { SignalCore } from '../../src/server/core.js';
import { NodeWebSocket, startTestServer, waitUntilOpen, type TestServer } from '../../src/testing/index.js';
import { RawPool } from '../compat/raw-client.js';
import { sleep, waitFor } from '../helpers/wait.js';

let srv: TestServer | undefined;
let inPage: InPageServer | undefined;
const clients: Signal[] = [];
const pool = new RawPool();
afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  pool.closeAll();
  await srv?.close();
  await inPage?.close();
  srv = undefined;
  inPage = undefined;
});

function watch(sig: Signal): { states: ConnectionState[]; errors: SignalError[] } {
  const out = { states: [] as ConnectionState[], errors: [] as SignalError[] };
  sig.on('state', (s) => out.states.push(s));
  sig.on('error', (e) => out.errors.push(e));
  return out;
}

describe('token refresh in place', () => {
  it('getToken before exp: the same connection outlives its first token; peers see no leave', { timeout: 40_000 }, async () => {
    srv = await startTestServer();
    const watcher = await srv.connect('watcher', 'w');
    const seen: string[] = [];
    const wch = watcher.join('room', { presence: true });
    wch.on('participant', (p, op) => seen.push(`${op} ${p.identity}`));
    await wch.ready;
    // A 12 s token: `expired` fires 10 s before exp, getToken hands a fresh one, the client sends signal.refresh.
    let fetched = 0;
    const sig = new Signal(new AccessToken(await srv.token('alice', 'web', { expiresIn: 12 })), {
      WebSocket: NodeWebSocket,
      getToken: async () => {
        fetched++;
        return srv!.token('alice', 'web', { expiresIn: 3600 });
      },
    });
    clients.push(sig);
    const w = watch(sig);
    await waitUntilOpen(sig);
    const ch = sig.join('room', { presence: true });
    await ch.ready;
    await waitFor(() => seen.includes('1 alice'));
    await sleep(14_000); // past the first token's exp
    expect(fetched).toBe(1);
    expect(sig.state).toBe('open');
    expect(w.states).toEqual(['connecting', 'open']); // never left open: no reconnect
    expect(w.errors).toEqual([]);
    expect(seen).toEqual(['1 alice']); // no leave, no second join
    expect(srv.server.stats().connections).toBe(2);
  });

  it('a token.update() with the same identity and device is handed over in place', { timeout: 20_000 }, async () => {
    srv = await startTestServer();
    const token = new AccessToken(await srv.token('alice', 'web', { expiresIn: 3 }));
    const sig = new Signal(token, { WebSocket: NodeWebSocket });
    clients.push(sig);
    const w = watch(sig);
    await waitUntilOpen(sig);
    token.update(await srv.token('alice', 'web', { expiresIn: 3600 }));
    await sleep(5000);
    expect(w.states).toEqual(['connecting', 'open']); // the constructor's 'connecting' comes after it returned
    expect(sig.state).toBe('open');
  });

  it('a server without the extension closes at exp (4401); the client reconnects at once with the new token', { timeout: 30_000 }, async () => {
    // The in-page server with a core that has no verifier: signal.refresh is refused with -32601.
    inPage = createInPageServer({ core: new SignalCore() });
    const token = new AccessToken(await inPage.token('alice', 'web', { expiresIn: 3 }));
    const sig = new Signal(token, { WebSocket: inPage.WebSocket });
    clients.push(sig);
    const w = watch(sig);
    await waitUntilOpen(sig);
    await sig.join('room').ready;
    token.update(await inPage.token('alice', 'web', { expiresIn: 3600 }));
    await waitFor(() => w.states.includes('reconnecting'), 8000, 'the close at exp');
    await waitFor(() => sig.state === 'open', 5000, 'the reconnect');
    expect(w.states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(w.errors).toEqual([]); // the refused refresh (an older server) is not an error the app must handle
    await waitFor(() => sig.channels.get('room')?.status === 'joined', 5000, 'the rejoin');
  });
});
