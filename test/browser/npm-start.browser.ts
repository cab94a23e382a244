import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { launch, screenshot, type Browser } from './browser.js';

// `npm start` (scripts/start.mjs): the real server + Storybook dev, demos pointed at the server, Ctrl-C stops both.

let start: ChildProcess | null = null;
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
  const child = start;
  if (child && child.exitCode === null && child.signalCode === null) {
    // Only if the test failed half-way: stop the process group we started.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A free loopback port (bound then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('npm start', () => {
  it('starts the server and Storybook dev with the demos on that server, prints both URLs, and Ctrl-C stops both', async () => {
    const sbPort = await freePort();
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      env: { ...process.env, SIGNAL_PORT: '0', STORYBOOK_PORT: String(sbPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    start = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 90_000;
    while (!/Ctrl-C stops both/.test(out)) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`npm start not ready in 90 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const serverUrl = /Signal server\s+(http:\/\/\S+)/.exec(out)![1]!;
    const storybookUrl = /Storybook\s+(http:\/\/\S+)/.exec(out)![1]!;
    expect(storybookUrl).toBe(`http://127.0.0.1:${sbPort}/`);
    expect((await fetch(`${serverUrl}/healthz`)).status).toBe(200);

    try {
      await demosWork(serverUrl, storybookUrl);
    } catch (e) {
      (e as Error).message += `\n--- npm start output ---\n${out}`;
      throw e;
    }

    // Ctrl-C: both children stop, the script exits 0, both ports are closed.
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped the signal server and Storybook');
    await expect(fetch(`${serverUrl}/healthz`)).rejects.toThrow();
    await expect(fetch(storybookUrl)).rejects.toThrow();
  }, 180_000);
});

async function demosWork(serverUrl: string, storybookUrl: string): Promise<void> {
  browser = await launch();
  const page = await browser.open(`${storybookUrl}iframe.html?id=demos-chat-room--two-users&viewMode=story`);
  // Vite's dev server may reload the page once when it optimizes newly found dependencies on a cold cache.
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  const chat = async (): Promise<void> => {
    // The dev server compiles on first load: allow for it.
    await page.waitForFunction(() => document.querySelectorAll('.pane-head .conn[data-state="open"]').length === 2, null, { timeout: 90_000 });
    expect(await page.locator('.demo-server').textContent()).toBe(`server ${serverUrl.replace('http://', '')}`);
    const alice = page.getByRole('region', { name: 'Alice on web', exact: true });
    const bob = page.getByRole('region', { name: 'Bob on web', exact: true });
    await bob.locator('.rss-presence__item').nth(1).waitFor({ timeout: 15_000 });
    await alice.getByRole('textbox').pressSequentially('npm start works', { delay: 10 });
    await bob.locator('.rss-typing', { hasText: 'Alice is typing…' }).waitFor({ timeout: 15_000 });
    await alice.getByRole('textbox').press('Enter');
    await bob.locator('.chat-msg', { hasText: 'npm start works' }).waitFor({ timeout: 15_000 });
  };
  try {
    await chat();
  } catch (e) {
    if (navigations === 0) throw e;
    navigations = 0;
    await chat(); // once more on the reloaded page
  }
  const health = (await (await fetch(`${serverUrl}/healthz`)).json()) as { connections: number };
  expect(health.connections).toBe(2);
  await screenshot(page, 'npm-start-chat-room');
  await browser.close();
  browser = null;
}
