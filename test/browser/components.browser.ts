import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { describe, expect, inject } from 'vitest';
import { browserTest, screenshot, storyUrl, WAIT as T, type Session } from './browser.js';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/**
 * Per-test limits, each several times the test's duration measured on a busy 2-core machine:
 * a story test opens one or a few stories, an axe test one story (two of them at a time, `maxConcurrency`).
 */
const TEST_TIMEOUT = 90_000;
const MULTI_STORY_TIMEOUT = 150_000;
const AXE_TIMEOUT = 120_000;

const test = browserTest();

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Open a story in the test's session and wait until each of its panes is connected. */
async function openStory(session: Session, id: string): Promise<Page> {
  const page = await session.open(storyUrl(inject('storybookUrl'), id));
  await page.locator('.demo').waitFor({ timeout: T });
  await page.waitForFunction(
    () => {
      const all = document.querySelectorAll('.pane-head .conn, .state-card .conn');
      return all.length > 0 && [...all].every((e) => e.getAttribute('data-state') === 'open');
    },
    null,
    { timeout: T, polling: 50 },
  );
  return page;
}

/** axe-core on the story root: serious and critical violations. */
async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Element, o: object): Promise<{ violations: Violation[] }> } }).axe;
    const r = await axe.run(document.querySelector('#storybook-root')!, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Every story of the build (the index Storybook serves, read here at collection time so that each story is its own
 * test with its own timeout; global-setup.ts has checked that the build exists).
 */
const STORIES = Object.entries(
  (JSON.parse(readFileSync('storybook-static/index.json', 'utf8')) as { entries: Record<string, { type: string }> }).entries,
)
  .filter(([, e]) => e.type === 'story')
  .map(([id]) => id);

describe('Components (live, in-page server)', () => {
  test('TypingIndicator: one, two, many typists and a custom format, as a polite live region', async ({ session }) => {
    const page = await openStory(session, 'components-typingindicator--many-typists');
    const region = page.locator('.rss-typing');
    await region.filter({ hasText: /^Alice, Bob and 3 others are typing…$/ }).waitFor({ timeout: T });
    expect(await region.getAttribute('aria-live')).toBe('polite');
    await screenshot(page, 'component-typing-indicator');
    const two = await openStory(session, 'components-typingindicator--two-typists');
    await two.locator('.rss-typing').filter({ hasText: /^Alice and Bob are typing…$/ }).waitFor({ timeout: T });
    const fr = await openStory(session, 'components-typingindicator--custom-format');
    await fr.locator('.rss-typing').filter({ hasText: /^Alice et Bob écrivent…$/ }).waitFor({ timeout: T });
    const nobody = await openStory(session, 'components-typingindicator--nobody');
    await nobody.waitForTimeout(300);
    expect(await nobody.locator('.rss-typing').textContent()).toBe('');
  }, MULTI_STORY_TIMEOUT);

  test('PresenceList: me first and marked, names from state, max with +N', async ({ session }) => {
    const page = await openStory(session, 'components-presencelist--with-max');
    const list = page.getByRole('list', { name: /Participants in/ });
    await list.locator('.rss-presence__more', { hasText: '+3' }).waitFor({ timeout: T });
    const items = await list.locator('.rss-presence__item').allTextContents();
    expect(items).toHaveLength(4); // max 4 entries, me included, then "+3" (7 people)
    await list.locator('.rss-presence__item', { hasText: 'Dave (you)' }).waitFor({ timeout: T });
    expect(await list.locator('.rss-presence__item').first().textContent()).toBe('Dave (you)');
    await screenshot(page, 'component-presence-list');
    const def = await openStory(session, 'components-presencelist--default');
    await def.locator('.rss-presence__item').nth(3).waitFor({ timeout: T });
    expect((await def.locator('.rss-presence__item').allTextContents()).slice(1).sort()).toEqual(['Alice', 'Bob', 'Carol']);
  }, MULTI_STORY_TIMEOUT);

  test('docs pages: each story instance on the page has its own users (the primary story renders twice there)', async ({ session }) => {
    const page = await session.open(`${inject('storybookUrl')}/iframe.html?id=components-presencelist--docs&viewMode=docs`);
    const lists = page.getByRole('list', { name: /Participants in/ });
    // Default (twice: primary + stories block), WithMax, CustomRows, WithoutMe.
    await expect.poll(() => lists.count(), { timeout: T }).toBeGreaterThanOrEqual(5);
    const first = lists.first();
    await first.locator('.rss-presence__item').nth(3).waitFor({ timeout: T });
    await page.waitForTimeout(500); // a leak from another instance would arrive within the demo latency
    expect((await first.locator('.rss-presence__item').allTextContents()).sort()).toEqual(['Alice', 'Bob', 'Carol', 'Dave (you)']);
    expect(session.errors(page)).toEqual([]);
  }, TEST_TIMEOUT);
});

describe('Hook stories (live)', () => {
  test('useDirectMessages: a note sent from one pane arrives in the other', async ({ session }) => {
    const page = await openStory(session, 'hooks-usedirectmessages--default');
    await page.getByRole('button', { name: 'Send note #1 to bob' }).click();
    await page.getByRole('list', { name: "Bob's inbox" }).getByText('Note #1 from Alice').waitFor({ timeout: T });
  }, TEST_TIMEOUT);

  test('useMyState: moving the slider updates the other user\'s view', async ({ session }) => {
    const page = await openStory(session, 'hooks-usemystate--default');
    await page.getByLabel(/My state/).fill('80');
    await expect.poll(() => page.getByRole('meter', { name: "Alice's value" }).getAttribute('aria-valuenow'), { timeout: T }).toBe('80');
  }, TEST_TIMEOUT);

  test('useTyping: typing in one pane lists the typist in the other', async ({ session }) => {
    const page = await openStory(session, 'hooks-usetyping--default');
    await page.getByLabel('Type as Alice').pressSequentially('hey', { delay: 20 });
    await page.getByRole('region', { name: 'Bob on web' }).getByTestId('typing').filter({ hasText: '["alice"]' }).waitFor({ timeout: T });
    await page.getByLabel('Type as Alice').fill('');
    await page.getByRole('region', { name: 'Bob on web' }).getByTestId('typing').filter({ hasText: '[]' }).waitFor({ timeout: T });
  }, TEST_TIMEOUT);

  test('useParticipantState: follows one participant\'s state', async ({ session }) => {
    const page = await openStory(session, 'hooks-useparticipantstate--default');
    await page.getByTestId('watched').filter({ hasText: '"name": "Alice"' }).waitFor({ timeout: T });
    await page.getByTestId('watched').filter({ hasText: /"score": [2-9]/ }).waitFor({ timeout: T });
  }, TEST_TIMEOUT);

  test('useConnectionState: reconnecting then open after a drop', async ({ session }) => {
    const page = await openStory(session, 'hooks-useconnectionstate--default');
    await page.getByTestId('history').filter({ hasText: /open$/ }).waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Drop connection' }).click();
    await page.getByTestId('history').filter({ hasText: /open → reconnecting → open$/ }).waitFor({ timeout: T });
    expect(await page.getByTestId('state').textContent()).toBe('open');
  }, TEST_TIMEOUT);
});

// One test per story, two at a time (`maxConcurrency` in vitest.config.ts): each with its own page and timeout,
// so a slow story cannot eat the others' time and a story over its limit stops alone.
describe.concurrent('axe: zero serious or critical violations on every component, hook and demo story', () => {
  test('the build has the component, hook and demo stories', ({ expect }) => {
    expect(STORIES.filter((id) => id.startsWith('components-')).length).toBeGreaterThanOrEqual(5);
    expect(STORIES.filter((id) => id.startsWith('hooks-')).length).toBeGreaterThanOrEqual(5);
    expect(STORIES.filter((id) => id.startsWith('demos-')).length).toBeGreaterThanOrEqual(4);
  });

  for (const id of STORIES) {
    test(id, async ({ session, expect }) => {
      const page = await openStory(session, id);
      expect(await seriousViolations(page), id).toEqual([]);
      expect(session.errors(page), id).toEqual([]);
    }, AXE_TIMEOUT);
  }
});
