import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, screenshot, storyUrl, type Browser } from './browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => browser?.close());

describe('Client/Signal story (in-page server)', () => {
  it('sends a direct message from one pane to the other', async () => {
    const page = await browser.open(storyUrl(inject('storybookUrl'), 'client-signal--direct-messages'));
    const alice = page.getByRole('region', { name: "alice's client" });
    const bob = page.getByRole('region', { name: "bob's client" });
    await alice.locator('.conn[data-state="open"]').waitFor({ timeout: 15_000 });
    await bob.locator('.conn[data-state="open"]').waitFor({ timeout: 15_000 });
    await alice.getByRole('button', { name: /Send/ }).click();
    await bob.getByText('Hello from alice').waitFor({ timeout: 10_000 });
    expect(await bob.getByText(/from alice\/raw\//).count()).toBe(1);
    await screenshot(page, 'client-signal');
    expect(browser.errors.get(page)).toEqual([]);
  });
});

describe('static build', () => {
  it('bundles the server core for the page without ws, Redis or node:* modules', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.js')) files.push(p);
      }
    };
    walk('storybook-static');
    expect(files.length).toBeGreaterThan(10);
    const offending = files.filter((f) => /WebSocketServer|perMessageDeflate|ws does not work in the browser|__vite-browser-external|ioredis|["']node:(http|net|crypto|stream|fs)["']/.test(readFileSync(f, 'utf8')));
    expect(offending).toEqual([]);
  });
});
