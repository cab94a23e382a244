import { spawn, type ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import { browserTest, screenshot, storyUrl, WAIT as T, type Session } from './browser.js';

/** Per test: several times its duration measured on a busy 2-core machine. */
const TEST_TIMEOUT = 90_000;
let server: ChildProcess | null = null;
let serverUrl = '';

/** The real CLI (dist/), dev tokens on, port 0. */
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
  const code = await exited;
  clearTimeout(t);
  expect(code).toBe(0);
}

// The server first: browserTest's afterAll (closing Chromium) then runs before stopServer (hooks run in reverse).
beforeAll(startServer);
afterAll(stopServer);
const test = browserTest();

const health = async (): Promise<{ ok: boolean; connections: number; channels: number }> =>
  (await fetch(`${serverUrl}/healthz`, { signal: AbortSignal.timeout(5000) })).json() as never;

async function openDemo(session: Session, id: string): Promise<Page> {
  const page = await session.open(storyUrl(inject('storybookUrl'), id, { signalUrl: serverUrl }));
  await page.locator('.demo').waitFor({ timeout: T });
  await page.waitForFunction(() => {
    const all = document.querySelectorAll('.pane-head .conn');
    return all.length > 0 && [...all].every((e) => e.getAttribute('data-state') === 'open');
  }, null, { timeout: T, polling: 50 });
  return page;
}

describe('Demos against a real server process (ws in the browser)', () => {
  test('Chat room over WebSockets: tokens from POST /token, typing and messages across panes', async ({ session }) => {
    const page = await openDemo(session, 'demos-chat-room--three-users');
    expect(await page.locator('.demo-server').textContent()).toBe(`server ${serverUrl.replace('http://', '')}`);
    await expect.poll(async () => (await health()).connections, { timeout: T }).toBe(3);
    const alice = page.getByRole('region', { name: 'Alice on web', exact: true });
    const bob = page.getByRole('region', { name: 'Bob on web', exact: true });
    await bob.locator('.rss-presence__item').nth(2).waitFor({ timeout: T });
    await alice.getByRole('textbox').pressSequentially('Over the wire', { delay: 20 });
    await bob.locator('.rss-typing', { hasText: 'Alice is typing…' }).waitFor({ timeout: T });
    await alice.getByRole('textbox').press('Enter');
    await bob.locator('.chat-msg', { hasText: 'Over the wire' }).waitFor({ timeout: T });
    expect((await health()).channels).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'real-server-chat-room');
    expect(session.errors(page)).toEqual([]);
  }, TEST_TIMEOUT);

  test('Reconnect over WebSockets: a dropped socket leaves and comes back with its state', async ({ session }) => {
    const page = await openDemo(session, 'demos-reconnect--three-users');
    const alice = page.getByRole('region', { name: 'Alice on web', exact: true });
    const bob = page.getByRole('region', { name: 'Bob on web', exact: true });
    await alice.locator('.rss-presence__item').nth(2).waitFor({ timeout: T });
    await bob.getByRole('button', { name: 'Like +1' }).click();
    await bob.getByRole('button', { name: 'Like +1' }).click();
    await alice.getByTestId('likes-bob').filter({ hasText: '♥ 2' }).waitFor({ timeout: T });
    await bob.getByRole('button', { name: 'Drop connection' }).click();
    await alice.locator('.event-log li[data-kind="leave"]', { hasText: 'Bob left' }).first().waitFor({ timeout: T });
    await alice.locator('.event-log li[data-kind="leave"] ~ li[data-kind="join"]', { hasText: 'Bob joined' }).first().waitFor({ timeout: T });
    await alice.getByTestId('likes-bob').filter({ hasText: '♥ 2' }).waitFor({ timeout: T });
    await expect.poll(async () => (await health()).connections, { timeout: T }).toBe(3);
    expect(session.errors(page)).toEqual([]);
  }, TEST_TIMEOUT);
});
