import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, screenshot, storyUrl, type Browser } from './browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

const T = 15_000;

async function openDemo(id: string): Promise<Page> {
  const page = await browser.open(storyUrl(inject('storybookUrl'), id));
  await page.locator('.demo').waitFor({ timeout: T });
  return page;
}

/** Wait until every pane's connection badge says `open`. */
async function allOpen(page: Page, panes: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('.pane .conn[data-state="open"]').length === n, panes, { timeout: T });
}

const pane = (page: Page, label: string): Locator => page.getByRole('region', { name: label, exact: true });

describe('Demos (in-page server, real Chromium)', () => {
  it('Chat room: typing in one pane shows "Alice is typing…" in the others; the message arrives', async () => {
    const page = await openDemo('demos-chat-room--three-users');
    await allOpen(page, 3);
    const alice = pane(page, 'Alice on web');
    const bob = pane(page, 'Bob on web');
    const carol = pane(page, 'Carol on web');
    // Everyone sees everyone (me included) in the presence list.
    for (const p of [alice, bob, carol]) await p.locator('.rss-presence__item').nth(2).waitFor({ timeout: T });
    expect(await bob.locator('.rss-typing').textContent()).toBe('');

    await alice.getByRole('textbox').pressSequentially('Hi both', { delay: 20 });
    await bob.locator('.rss-typing', { hasText: 'Alice is typing…' }).waitFor({ timeout: T });
    await carol.locator('.rss-typing', { hasText: 'Alice is typing…' }).waitFor({ timeout: T });
    expect(await alice.locator('.rss-typing').textContent()).toBe('');

    await alice.getByRole('textbox').press('Enter');
    await bob.locator('.chat-msg', { hasText: 'Hi both' }).waitFor({ timeout: T });
    await carol.locator('.chat-msg', { hasText: 'Hi both' }).waitFor({ timeout: T });
    await alice.locator('.chat-msg.mine', { hasText: 'Hi both' }).waitFor({ timeout: T });
    // Sending stops the typing indicator at once.
    await page.waitForFunction(() => [...document.querySelectorAll('.rss-typing')].every((e) => e.textContent === ''), null, { timeout: T });

    await bob.getByRole('textbox').fill('Hey Alice!');
    await bob.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.chat-msg', { hasText: 'Hey Alice!' }).waitFor({ timeout: T });
    // Two typists at once.
    await carol.getByRole('textbox').pressSequentially('Hello', { delay: 20 });
    await bob.getByRole('textbox').pressSequentially('So', { delay: 20 });
    await alice.locator('.rss-typing', { hasText: /Bob and Carol are typing…|Carol and Bob are typing…/ }).waitFor({ timeout: T });
    await screenshot(page, 'demo-chat-room');
    expect(browser.errors.get(page)).toEqual([]);
  });
});
