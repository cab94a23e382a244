import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { launch, screenshot, sleep, throwIfOver, WAIT as T, type Session } from './browser.js';

// `npm start` (scripts/start.mjs): the real server + Storybook dev, demos pointed at that server, Ctrl-C stops both.

/** Limits, each several times its duration measured on a busy 2-core machine. */
const READY = 90_000; // until `npm start` prints both URLs (Storybook dev starting)
const FIRST_LOAD = 90_000; // the dev server compiling the demo on its first load
const STOP = 30_000; // Ctrl-C until the script has exited
const TEST_TIMEOUT = 240_000;

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

const get = (url: string): Promise<Response> => fetch(url, { signal: AbortSignal.timeout(10_000) });

describe('npm start', () => {
  it('starts the server and Storybook dev with the demos on that server, prints both URLs, and Ctrl-C stops both', async ({ signal, onTestFinished }) => {
    const sbPort = await freePort();
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      env: { ...process.env, SIGNAL_PORT: '0', STORYBOOK_PORT: String(sbPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    // When the test ends (passed, failed or timed out): stop the process group we started, if still running.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });

    const deadline = Date.now() + READY;
    while (!/Ctrl-C stops both/.test(out)) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`npm start not ready in ${READY / 1000} s:\n${out}`);
      await sleep(100, signal); // rejects once the test is over, so a timed-out test stops polling
    }
    const serverUrl = /Signal server\s+(http:\/\/\S+)/.exec(out)![1]!;
    const storybookUrl = /Storybook\s+(http:\/\/\S+)/.exec(out)![1]!;
    expect(storybookUrl).toBe(`http://127.0.0.1:${sbPort}/`);
    expect((await get(`${serverUrl}/healthz`)).status).toBe(200);

    const browser = await launch();
    onTestFinished(() => browser.close());
    try {
      await demosWork(browser.session(signal), serverUrl, storybookUrl);
    } catch (e) {
      (e as Error).message += `\n--- npm start output ---\n${out}`;
      throw e;
    }
    await browser.close();
    throwIfOver(signal);

    // Ctrl-C: both children stop, the script exits 0, both ports are closed.
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((r) => (timer = setTimeout(() => r(`still running ${STOP / 1000} s after Ctrl-C`), STOP)));
    const code = await Promise.race([exited, late]).finally(() => clearTimeout(timer));
    expect(code, out).toBe(0);
    expect(out).toContain('stopped the signal server and Storybook');
    await expect(get(`${serverUrl}/healthz`)).rejects.toThrow();
    await expect(get(storybookUrl)).rejects.toThrow();
  }, TEST_TIMEOUT);
});

async function demosWork(session: Session, serverUrl: string, storybookUrl: string): Promise<void> {
  // The dev server compiles on first load: allow for it.
  const page = await session.open(`${storybookUrl}iframe.html?id=demos-chat-room--two-users&viewMode=story`, { timeout: FIRST_LOAD });
  // Vite's dev server may reload the page once when it optimizes newly found dependencies on a cold cache.
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  const chat = async (): Promise<void> => {
    await page.waitForFunction(() => document.querySelectorAll('.pane-head .conn[data-state="open"]').length === 2, null, { timeout: FIRST_LOAD, polling: 100 });
    expect(await page.locator('.demo-server').textContent()).toBe(`server ${serverUrl.replace('http://', '')}`);
    const alice = page.getByRole('region', { name: 'Alice on web', exact: true });
    const bob = page.getByRole('region', { name: 'Bob on web', exact: true });
    await bob.locator('.rss-presence__item').nth(1).waitFor({ timeout: T });
    await alice.getByRole('textbox').pressSequentially('npm start works', { delay: 10 });
    await bob.locator('.rss-typing', { hasText: 'Alice is typing…' }).waitFor({ timeout: T });
    await alice.getByRole('textbox').press('Enter');
    await bob.locator('.chat-msg', { hasText: 'npm start works' }).waitFor({ timeout: T });
  };
  try {
    await chat();
  } catch (e) {
    if (navigations === 0) throw e;
    navigations = 0;
    await chat(); // once more on the reloaded page
  }
  const health = (await (await fetch(`${serverUrl}/healthz`, { signal: AbortSignal.timeout(10_000) })).json()) as { connections: number };
  expect(health.connections).toBe(2);
  await screenshot(page, 'npm-start-chat-room');
}
