import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { browserTest, screenshot, storyUrl, WAIT as T } from './browser.js';

const test = browserTest();
/** Per test: several times its duration measured on a busy 2-core machine. */
const TEST_TIMEOUT = 60_000;

describe('Client/Signal story (in-page server)', () => {
  test('sends a direct message from one pane to the other', async ({ session }) => {
    const page = await session.open(storyUrl(inject('storybookUrl'), 'client-signal--direct-messages'));
    const alice = page.getByRole('region', { name: "alice's client" });
    const bob = page.getByRole('region', { name: "bob's client" });
    await alice.locator('.conn[data-state="open"]').waitFor({ timeout: T });
    await bob.locator('.conn[data-state="open"]').waitFor({ timeout: T });
    await alice.getByRole('button', { name: /Send/ }).click();
    await bob.getByText('Hello from alice').waitFor({ timeout: T });
    expect(await bob.getByText(/from alice\/raw\//).count()).toBe(1);
    await screenshot(page, 'client-signal');
    expect(session.errors(page)).toEqual([]);
  }, TEST_TIMEOUT);
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
