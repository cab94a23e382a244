import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (DEVELOPERS.md); `npx playwright install` is not used. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** Errors thrown in pages, logged with console.error, or HTTP errors, per page. */
  errors: Map<Page, string[]>;
  /** Open `url` in a new page (closing the earlier ones). */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** Launch Chromium with a fresh profile directory (removed by `close`). */
export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'rss-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    timeout: 30_000,
  });
  const errors = new Map<Page, string[]>();
  const track = (page: Page): void => {
    const list: string[] = [];
    errors.set(page, list);
    page.on('pageerror', (e) => list.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // A failed resource load is reported by 'response' below, with its URL.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) list.push(`console.error: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) list.push(`HTTP ${r.status()} ${r.url()}`);
    });
  };
  context.on('page', track);
  for (const p of context.pages()) track(p);
  return {
    context,
    errors,
    async open(url) {
      // One story at a time: close the pages of earlier stories (their users disconnect).
      const page = await context.newPage();
      for (const p of context.pages()) if (p !== page) await p.close().catch(() => {});
      await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `iframe.html` URL of a story, with extra query parameters. */
export function storyUrl(base: string, id: string, query: Record<string, string> = {}): string {
  const q = new URLSearchParams({ id, viewMode: 'story', ...query });
  return `${base}/iframe.html?${q}`;
}

/** Save a screenshot under artifacts/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync('artifacts/screenshots', { recursive: true });
  const path = `artifacts/screenshots/${name}.png`;
  await page.screenshot({ path, fullPage: false });
  return path;
}
