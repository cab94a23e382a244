/**
 * Calls (react-signal-service/calls) in real Chromium against a real server process: each device is its own page
 * (the "Video call / One device" story, `?signalUrl=` the server) with fake camera and microphone, and the pages
 * connect peer to peer over loopback. Also prints the measured figures (BENCHMARKS.md, "Calls").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, test } from 'vitest';
import { launch, screenshot, storyUrl, WAIT as T, type Browser, type Session } from './browser.js';

const TEST_TIMEOUT = 120_000;
/** Fake media devices, no permission prompt, and plain loopback host candidates (no mDNS names). This file only. */
const CALL_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-features=WebRtcHideLocalIpsWithMdns'];

let server: ChildProcess | null = null;
let serverUrl = '';
let browser: Browser | null = null;
const figures: Record<string, unknown> = {};

async function startServer(): Promise<void> {
  const child = spawn(process.execPath, ['bin/react-signal-service.js', 'serve', '--dev-tokens', '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  serverUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), T);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}

async function stopServer(): Promise<void> {
  const child = server;
  server = null;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

beforeAll(async () => {
  await startServer();
  browser = await launch(CALL_FLAGS);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stopServer();
  if (Object.keys(figures).length) {
    mkdirSync('artifacts', { recursive: true });
    writeFileSync('artifacts/calls-figures.json', JSON.stringify(figures, null, 2));
    console.log('calls figures:', JSON.stringify(figures, null, 2));
  }
}, 60_000);

/** Open one device's page (the "One device" story) and wait for its connection. */
async function openPhone(identity: string, device: string, callees: string, q: Record<string, string> = {}): Promise<Page> {
  const page = await browser!.context.newPage();
  // Count the call signals this page sends (frames whose payload has a call-* type).
  await page.addInitScript(() => {
    const w = window as unknown as { __callFrames: Record<string, number> };
    w.__callFrames = {};
    const orig = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
      const m = typeof data === 'string' ? /"type":"(call-[a-z]+)"/.exec(data) : null;
      if (m) w.__callFrames[m[1]!] = (w.__callFrames[m[1]!] ?? 0) + 1;
      return orig.call(this, data);
    };
  });
  await page.goto(storyUrl(inject('storybookUrl'), 'demos-video-call--one-device', { signalUrl: serverUrl, identity, device, callees, ...q }));
  await page.locator('.pane-head .conn[data-state="open"]').waitFor({ timeout: T });
  return page;
}

interface CallView {
  status: string;
  endedReason?: string;
  id?: string;
  ringing: string[];
  peer?: { identity: string; device?: string; address?: string };
  stats: { startedAt?: number; ringingAt?: number; acceptedAt?: number; connectedAt?: number; negotiationSent: number; candidates: number };
  pcState?: string;
}
type Calls = Map<string, { status: string; start(to: string, o?: object): void; accept(): void; hangUp(): void; reset(): void; pc: RTCPeerConnection | null } & CallView>;

const view = (page: Page): Promise<CallView> =>
  page.evaluate(() => {
    const c = [...(window as unknown as { __calls: Calls }).__calls.values()][0]!;
    return { status: c.status, endedReason: c.endedReason, id: c.id, ringing: [...c.ringing], peer: c.peer, stats: c.stats, pcState: c.pc?.connectionState };
  });
const act = (page: Page, what: 'accept' | 'hangUp' | { start: string }): Promise<void> =>
  page.evaluate((w) => {
    const c = [...(window as unknown as { __calls: Calls }).__calls.values()][0]!;
    if (w === 'accept') c.accept();
    else if (w === 'hangUp') c.hangUp();
    else c.start(w.start, { data: true });
  }, what);
const statusIs = (page: Page, status: string, reason?: string): Promise<unknown> =>
  page.locator(`[data-testid="phone"][data-status="${status}"]${reason ? `[data-reason="${reason}"]` : ''}`).waitFor({ timeout: T });
const frames = (page: Page): Promise<Record<string, number>> => page.evaluate(() => ({ ...(window as unknown as { __callFrames: Record<string, number> }).__callFrames }));
/** The remote video plays: it has a size and its time advances. */
async function videoPlays(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const v = document.querySelector<HTMLVideoElement>('.rss-video.remote');
    return !!v && v.videoWidth > 0 && !v.paused && v.currentTime > 0.2;
  }, null, { timeout: T, polling: 100 });
}
async function chat(from: Page, to: Page, text: string): Promise<void> {
  await from.locator('[data-testid="data-chat"][data-open="yes"]').waitFor({ timeout: T });
  await from.getByRole('textbox', { name: 'Message over the data channel' }).fill(text);
  await from.getByRole('button', { name: 'Send' }).click();
  await to.getByRole('list', { name: 'Data channel messages' }).getByText(`← ${text}`).waitFor({ timeout: T });
}
const sum = (...fs: Record<string, number>[]): number => fs.reduce((n, f) => n + Object.values(f).reduce((a, b) => a + b, 0), 0);
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
};

// The three devices' pages are shared by the tests (loading a page is most of a test's time); each test starts from
// idle on every page (settle), uses its own call, and the page closed by the last test is the last one used.
let alice: Page;
let phone: Page;
let tablet: Page;
let session: Session;
const settle = async (): Promise<void> => {
  for (const p of [alice, phone, tablet]) {
    if (p.isClosed()) continue;
    await p.evaluate(() => {
      const c = [...(window as unknown as { __calls: Calls }).__calls.values()][0]!;
      c.hangUp();
    });
    await p.locator('[data-testid="phone"]:is([data-status="idle"], [data-status="ended"])').waitFor({ timeout: T });
    await p.evaluate(() => [...(window as unknown as { __calls: Calls }).__calls.values()][0]!.reset());
    await statusIs(p, 'idle');
    await p.evaluate(() => {
      (window as unknown as { __callFrames: Record<string, number> }).__callFrames = {};
    });
  }
};

describe('Calls in real Chromium over a real server (alice/laptop, bob/phone, bob/tablet)', () => {
  beforeAll(async () => {
    session = browser!.session();
    alice = await openPhone('alice', 'laptop', 'bob');
    // bob/phone's own calls ring for 3 s (the timeout test).
    phone = await openPhone('bob', 'phone', 'alice', { ring: '3000' });
    tablet = await openPhone('bob', 'tablet', 'alice');
  }, 120_000);
  afterAll(async () => {
    for (const p of [alice, phone, tablet]) expect(session.errors(p)).toEqual([]);
    for (const p of [alice, phone, tablet]) await p?.close().catch(() => {});
    await session?.close();
  });
  beforeEach(settle, 60_000);

  test('both callee devices ring; accept on one, the other shows answered-elsewhere; video plays and the data channel works both ways', async () => {
    await alice.getByRole('button', { name: 'Call Bob' }).click();
    await phone.getByRole('alertdialog', { name: 'Video call from Alice' }).waitFor({ timeout: T });
    await tablet.getByRole('alertdialog', { name: 'Video call from Alice' }).waitFor({ timeout: T });
    await expect.poll(async () => (await view(alice)).ringing.length, { timeout: T }).toBe(2);
    await tablet.getByRole('button', { name: 'Accept' }).click();
    await statusIs(alice, 'connected');
    await statusIs(tablet, 'connected');
    await statusIs(phone, 'ended', 'answered-elsewhere');
    expect(await phone.getByTestId('call-status').textContent()).toBe('Call ended: answered on another device');
    expect((await view(alice)).peer?.address).toMatch(/^bob\/tablet\//);
    await videoPlays(alice);
    await videoPlays(tablet);
    await chat(alice, tablet, 'hello from alice');
    await chat(tablet, alice, 'hello from bob');
    await screenshot(alice, 'calls-connected-caller');
    const [a, t, fa, ft, fp] = await Promise.all([view(alice), view(tablet), frames(alice), frames(tablet), frames(phone)]);
    figures.setup = {
      signalsPerCallSetup: sum(fa, ft, fp),
      byPage: { caller: fa, answeringDevice: ft, otherDevice: fp },
      negotiationSent: a.stats.negotiationSent + t.stats.negotiationSent,
      candidates: a.stats.candidates + t.stats.candidates,
      withoutBatching: sum(fa, ft, fp) - (fa['call-ice'] ?? 0) - (ft['call-ice'] ?? 0) + a.stats.candidates + t.stats.candidates,
    };
    await alice.getByRole('button', { name: 'Hang up' }).click();
    await statusIs(tablet, 'ended', 'hung-up');
    await statusIs(alice, 'ended', 'hung-up');
  }, TEST_TIMEOUT);

  test('glare: both call each other at the same moment; exactly one call connects', async () => {
    for (let round = 0; round < 2; round++) {
      await settle();
      await Promise.all([act(alice, { start: 'bob/phone' }), act(phone, { start: 'alice' })]);
      await statusIs(alice, 'connected');
      await statusIs(phone, 'connected');
      const [a, p] = await Promise.all([view(alice), view(phone)]);
      expect(a.id).toBe(p.id);
      await chat(alice, phone, `one call ${round}`);
      await alice.waitForTimeout(500);
      const [a2, p2] = await Promise.all([view(alice), view(phone)]);
      expect([a2.status, p2.status, p2.id]).toEqual(['connected', 'connected', a.id]);
      expect(await alice.getByRole('alertdialog').count()).toBe(0);
      expect(await phone.getByRole('alertdialog').count()).toBe(0);
    }
  }, TEST_TIMEOUT);

  test('decline, cancel and ring timeout end both sides with their reason', async () => {
    await act(alice, { start: 'bob/phone' });
    await phone.getByRole('button', { name: 'Decline' }).click();
    await statusIs(alice, 'ended', 'declined');
    await statusIs(phone, 'ended', 'declined');
    await act(alice, { start: 'bob/phone' });
    await phone.getByRole('alertdialog').waitFor({ timeout: T });
    await alice.getByRole('button', { name: 'Cancel' }).click();
    await statusIs(alice, 'ended', 'cancelled');
    await statusIs(phone, 'ended', 'cancelled');
    // bob/phone rings for 3 s: nobody answers.
    await act(phone, { start: 'alice' });
    await alice.getByRole('alertdialog').waitFor({ timeout: T });
    await statusIs(phone, 'ended', 'timeout');
    await statusIs(alice, 'ended', 'timeout');
  }, TEST_TIMEOUT);

  test('measured: invite → ringing, accept → connected on loopback', async () => {
    const ringing: number[] = [];
    for (let i = 0; i < 40; i++) {
      await act(alice, { start: 'bob/phone' });
      await expect.poll(async () => (await view(alice)).stats.ringingAt, { timeout: T, interval: 5 }).toBeDefined();
      const v = await view(alice);
      ringing.push(v.stats.ringingAt! - v.stats.startedAt!);
      await act(alice, 'hangUp');
      await statusIs(phone, 'ended', 'cancelled');
    }
    const callee: number[] = [];
    const caller: number[] = [];
    for (let i = 0; i < 5; i++) {
      await act(alice, { start: 'bob/phone' });
      await statusIs(phone, 'incoming');
      await act(phone, 'accept');
      await statusIs(alice, 'connected');
      await statusIs(phone, 'connected');
      const [a, p] = await Promise.all([view(alice), view(phone)]);
      callee.push(p.stats.connectedAt! - p.stats.acceptedAt!);
      caller.push(a.stats.connectedAt! - a.stats.acceptedAt!);
      await act(alice, 'hangUp');
      await statusIs(phone, 'ended', 'hung-up');
    }
    figures.inviteToRingingMs = { n: ringing.length, p50: pct(ringing, 50), p99: pct(ringing, 99) };
    figures.acceptToConnectedMs = { n: callee.length, calleeP50: pct(callee, 50), calleeMax: pct(callee, 100), callerP50: pct(caller, 50) };
    expect(ringing.every((x) => x > 0)).toBe(true);
  }, 180_000);

  test('one side’s signaling socket dropped mid-call: the call survives and the peer learns the new endpoint', async () => {
    await act(alice, { start: 'bob/phone' });
    await phone.getByRole('button', { name: 'Accept' }).click();
    await statusIs(alice, 'connected');
    await videoPlays(alice);
    const before = (await view(alice)).peer!.address!;
    const droppedAt = Date.now();
    await phone.getByRole('button', { name: 'Drop signaling' }).click();
    await phone.locator('.pane-head .conn[data-state="reconnecting"]').waitFor({ timeout: T });
    await phone.locator('.pane-head .conn[data-state="open"]').waitFor({ timeout: T });
    await expect.poll(async () => (await view(alice)).peer?.address, { timeout: T }).not.toBe(before);
    // Past peerGoneMs (5 s) since bob's old endpoint left: still connected, media and data still flow.
    await alice.waitForTimeout(Math.max(0, droppedAt + 5500 - Date.now()));
    const [a, p] = await Promise.all([view(alice), view(phone)]);
    expect([a.status, p.status, a.pcState]).toEqual(['connected', 'connected', 'connected']);
    await chat(alice, phone, 'still here');
    await chat(phone, alice, 'me too');
    const t0 = await alice.evaluate(() => document.querySelector<HTMLVideoElement>('.rss-video.remote')!.currentTime);
    await expect.poll(() => alice.evaluate(() => document.querySelector<HTMLVideoElement>('.rss-video.remote')!.currentTime), { timeout: T }).toBeGreaterThan(t0 + 0.5);
    // Hanging up reaches bob at his new endpoint.
    await act(alice, 'hangUp');
    await statusIs(phone, 'ended', 'hung-up');
  }, TEST_TIMEOUT);

  test('closing the callee’s page ends the caller’s call with peer-gone within the dead-peer bound', async () => {
    await act(alice, { start: 'bob/tablet' });
    await tablet.getByRole('button', { name: 'Accept' }).click();
    await statusIs(alice, 'connected');
    const t0 = Date.now();
    expect(session.errors(tablet)).toEqual([]);
    await tablet.close();
    await statusIs(alice, 'ended', 'peer-gone');
    const ms = Date.now() - t0;
    figures.peerGoneMs = ms;
    // The server's dead-peer bound (15 s) is for a vanished socket; a closed page leaves at once, then peerGoneMs (5 s).
    expect(ms).toBeLessThan(15_000);
  }, TEST_TIMEOUT);
});

describe('The Video call demo on the in-page server (the static build)', () => {
  test('three panes in one page: the glare button makes exactly one call, its video plays, and Hang up ends it', async () => {
    const s = browser!.session();
    const page = await browser!.context.newPage();
    try {
      await page.goto(storyUrl(inject('storybookUrl'), 'demos-video-call--alice-calls-bob-on-two-devices'));
      await page.waitForFunction(() => {
        const all = document.querySelectorAll('.pane-head .conn');
        return all.length === 3 && [...all].every((e) => e.getAttribute('data-state') === 'open');
      }, null, { timeout: T, polling: 50 });
      const pane = (name: string) => page.getByRole('region', { name, exact: true });
      const [a, b, t] = [pane('Alice on laptop'), pane('Bob on phone'), pane('Bob on tablet')];
      await page.getByRole('button', { name: 'Glare: both call at once' }).click();
      await a.locator('[data-testid="phone"][data-status="connected"]').waitFor({ timeout: T });
      await b.locator('[data-testid="phone"][data-status="connected"]').waitFor({ timeout: T });
      // The tablet rang for Alice's call at most, and stopped (answered on the phone, or Alice's call was the one dropped).
      await t.locator('[data-testid="phone"][data-status="ended"]').waitFor({ timeout: T });
      await page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>('[aria-label="Alice on laptop"] .rss-video.remote');
        return !!v && v.videoWidth > 0 && v.currentTime > 0.2;
      }, null, { timeout: T, polling: 100 });
      await screenshot(page, 'demo-video-call');
      await a.getByRole('button', { name: 'Hang up' }).click();
      await b.locator('[data-testid="phone"][data-status="ended"][data-reason="hung-up"]').waitFor({ timeout: T });
      expect(s.errors(page)).toEqual([]);
    } finally {
      await page.close().catch(() => {});
      await s.close();
    }
  }, TEST_TIMEOUT);
});
