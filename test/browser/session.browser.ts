import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { browserTest, launch } from './browser.js';

// The harness itself: a test that timed out must not be able to touch the next test's pages.

/** Any page will do: no story needed. */
const url = (): string => `${inject('storybookUrl')}/favicon.svg`;

describe('browser sessions (one per test)', () => {
  it('once its test is over, a session has closed its pages and opens no more; other sessions keep theirs', async ({ onTestFinished }) => {
    const browser = await launch();
    onTestFinished(() => browser.close());
    const timedOut = new AbortController(); // stands for vitest's test signal, aborted on a timeout
    const a = browser.session(timedOut.signal);
    const b = browser.session();
    const pageA = await a.open(url());
    const pageB = await b.open(url());
    // `open` closes the session's own earlier pages, never another session's.
    const pageA2 = await a.open(url());
    expect(pageA.isClosed()).toBe(true);
    expect(pageB.isClosed()).toBe(false);

    timedOut.abort(new Error('Test timed out'));
    expect(a.signal.aborted).toBe(true);
    await expect.poll(() => pageA2.isClosed()).toBe(true);
    await expect(a.open(url())).rejects.toThrow(/the test is over/);
    expect(pageB.isClosed()).toBe(false);
    expect(await pageB.evaluate(() => document.readyState)).toBe('complete');
    await b.close();
    expect(pageB.isClosed()).toBe(true);
    expect(b.signal.aborted).toBe(true);
  }, 60_000);
});

describe('a test that times out in a loop (browserTest)', () => {
  const test = browserTest();
  const opened: Page[] = [];
  let stopped: unknown = null;

  // Expected to fail: it times out while still opening pages.
  test.fails('(times out on purpose)', async ({ session }) => {
    try {
      for (;;) {
        opened.push(await session.open(url()));
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (e) {
      stopped = e;
      throw e;
    }
  }, 3000);

  test('the next test keeps its page: the timed-out loop stopped at its next step, its pages closed', async ({ session }) => {
    const page = await session.open(url());
    await new Promise((r) => setTimeout(r, 1000)); // turns of the loop, had it kept going
    expect(page.isClosed()).toBe(false);
    expect(await page.evaluate(() => document.readyState)).toBe('complete');
    expect(opened.every((p) => p.isClosed())).toBe(true);
    // Stopped by `open` refusing, or by its page being closed under it (if the timeout hit during a load).
    expect(String(stopped)).toMatch(/the test is over|has been closed|frame was detached|ERR_ABORTED/); // a load cut short by the close
  }, 60_000);
});
