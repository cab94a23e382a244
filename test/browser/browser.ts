import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, test as base, type TestAPI } from 'vitest';

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

/**
 * The limit of one wait in a test (a page connecting, a message arriving): on a busy 2-core machine no whole story
 * test (page load, connecting, several waits) took more than 25 s, so a wait only reaches it when the test is failing.
 * Also Playwright's own limit for an action given no `timeout` (a click, a fill, a textContent ...).
 */
export const WAIT = 30_000;
/** The limit of a page load. */
const NAVIGATION_TIMEOUT = 60_000;

/**
 * One Chromium (one persistent context, so the HTTP and code caches are shared) per test file.
 * Tests never use it directly: each one gets its own {@link Session}.
 */
export interface Browser {
  context: BrowserContext;
  /** A new session: pages owned by one test, closed by `close()` or when `signal` aborts. */
  session(signal?: AbortSignal): Session;
  close(): Promise<void>;
}

/**
 * The pages of one test. Once the test is over (it finished, or timed out: `signal` aborted), the session's pages
 * are closed and `open` throws, so a test that timed out and keeps running in the background fails at its next
 * browser step instead of touching the pages of the test after it.
 */
export interface Session {
  /** Aborted when the test times out or is cancelled, and when the session is closed. */
  readonly signal: AbortSignal;
  /**
   * Open `url` in a new page of this session, closing this session's earlier pages (never another test's).
   * `timeout`: for the page's load event (default 60 s).
   */
  open(url: string, options?: { timeout?: number }): Promise<Page>;
  /** Errors thrown in `page`, logged with console.error, or HTTP errors. */
  errors(page: Page): string[];
  close(): Promise<void>;
}

/** Throw if `signal` aborted (the test timed out or is over): for loops that do not go through a session. */
export function throwIfOver(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('the test is over (timed out or finished); stopping', { cause: signal.reason });
}

/** Sleep `ms`, or reject as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('the test is over (timed out or finished); stopping', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('the test is over (timed out or finished); stopping', { cause: signal.reason }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Launch Chromium with a fresh profile directory (removed by `close`); `extraArgs` are added to the flags. */
export async function launch(extraArgs: string[] = []): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'rss-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...extraArgs],
    viewport: { width: 1280, height: 800 },
    timeout: 30_000,
  });
  context.setDefaultTimeout(WAIT);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT);
  const errors = new WeakMap<Page, string[]>();
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
  // The persistent context opens with a blank page: no test owns it.
  for (const p of context.pages()) await p.close().catch(() => {});

  const session = (testSignal?: AbortSignal): Session => {
    const own = new AbortController();
    const pages = new Set<Page>();
    const over = (): boolean => own.signal.aborted;
    const close = async (): Promise<void> => {
      if (!own.signal.aborted) own.abort(new Error('session closed'));
      const closing = Promise.all([...pages].map((p) => p.close().catch(() => {})));
      pages.clear();
      // Bounded: a hung renderer must not hold up the next test (the context closes it at the end of the file).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closing, new Promise((r) => (timer = setTimeout(r, 10_000)))]).finally(() => clearTimeout(timer));
    };
    const onTestAbort = (): void => void close();
    if (testSignal?.aborted) own.abort(testSignal.reason);
    testSignal?.addEventListener('abort', onTestAbort, { once: true });
    own.signal.addEventListener('abort', () => testSignal?.removeEventListener('abort', onTestAbort), { once: true });
    return {
      signal: own.signal,
      async open(url, options) {
        throwIfOver(own.signal);
        const page = await context.newPage();
        pages.add(page);
        if (!errors.has(page)) track(page);
        if (over()) {
          // The test ended while the page was being created.
          await page.close().catch(() => {});
          throwIfOver(own.signal);
        }
        // One story at a time: close this session's earlier pages (their users disconnect).
        for (const p of [...pages]) {
          if (p === page) continue;
          pages.delete(p);
          await p.close().catch(() => {});
        }
        await page.goto(url, { waitUntil: 'load', timeout: options?.timeout ?? NAVIGATION_TIMEOUT });
        return page;
      },
      errors: (page) => errors.get(page) ?? [],
      close,
    };
  };

  return {
    context,
    session,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * `test` for a browser test file: launches Chromium once for the file (beforeAll, closed in afterAll) and gives
 * each test a `session` fixture, its own pages, closed when the test ends (passed, failed or timed out).
 * Call once, at the top level of the file.
 */
export function browserTest(): TestAPI<{ session: Session }> {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => browser?.close());
  return base.extend<{ session: Session }>({
    session: async ({ signal }, use) => {
      if (!browser) throw new Error('Chromium is not running (beforeAll failed)');
      const s = browser.session(signal);
      try {
        await use(s);
      } finally {
        await s.close();
      }
    },
  });
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
