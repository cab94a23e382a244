import type { Locator, Page } from 'playwright-core';
import { describe, expect, inject } from 'vitest';
import { browserTest, screenshot, storyUrl, WAIT as T, type Session } from './browser.js';

const test = browserTest();

/** Per test: several times the longest demo (Reconnect, with its offline backoff) measured on a busy 2-core machine. */
const DEMO_TIMEOUT = 90_000;

async function openDemo(session: Session, id: string): Promise<Page> {
  const page = await session.open(storyUrl(inject('storybookUrl'), id));
  await page.locator('.demo').waitFor({ timeout: T });
  return page;
}

/** Wait until every pane's connection badge says `open`. */
async function allOpen(page: Page, panes: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('.pane .conn[data-state="open"]').length === n, panes, { timeout: T, polling: 50 });
}

const pane = (page: Page, label: string): Locator => page.getByRole('region', { name: label, exact: true });

describe('Demos (in-page server, real Chromium)', () => {
  test('Chat room: typing in one pane shows "Alice is typing…" in the others; the message arrives', async ({ session }) => {
    const page = await openDemo(session, 'demos-chat-room--three-users');
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
    expect(session.errors(page)).toEqual([]);
  }, DEMO_TIMEOUT);
});

describe('Presence and cursors (in-page server)', () => {
  test('moving the mouse in one pane moves that user\'s cursor in the others', async ({ session }) => {
    const page = await openDemo(session, 'demos-presence-and-cursors--three-users');
    await allOpen(page, 3);
    const alice = pane(page, 'Alice on web');
    const bob = pane(page, 'Bob on web');
    const carol = pane(page, 'Carol on web');
    for (const p of [alice, bob, carol]) await p.locator('.rss-presence__item').nth(2).waitFor({ timeout: T });

    const board = alice.getByTestId('board');
    const box = (await board.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.5, { steps: 5 });
    const bobsAlice = bob.locator('.cursor[data-user="alice"]');
    await bobsAlice.waitFor({ timeout: T });
    await carol.locator('.cursor[data-user="alice"]').waitFor({ timeout: T });
    const at = async (l: Locator) => ({ x: Number(await l.getAttribute('data-x')), y: Number(await l.getAttribute('data-y')) });
    await expect.poll(() => at(bobsAlice), { timeout: T }).toEqual({ x: expect.closeTo(0.25, 1), y: expect.closeTo(0.5, 1) });

    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.2, { steps: 10 });
    await expect.poll(() => at(bobsAlice), { timeout: T }).toEqual({ x: expect.closeTo(0.8, 1), y: expect.closeTo(0.2, 1) });
    // The cursor is drawn where the state says, on Bob's board.
    await page.waitForTimeout(150); // the 80 ms CSS transition
    const bobBoard = (await bob.getByTestId('board').boundingBox())!;
    const c = (await bobsAlice.boundingBox())!;
    expect(Math.abs(c.x - (bobBoard.x + 0.8 * bobBoard.width))).toBeLessThan(8);
    expect(Math.abs(c.y - (bobBoard.y + 0.2 * bobBoard.height))).toBeLessThan(8);
    // Alice never sees her own cursor drawn; she sees no one else's yet.
    expect(await alice.locator('.cursor').count()).toBe(0);

    // Bob moves too: Alice and Carol see him.
    const bb = (await bob.getByTestId('board').boundingBox())!;
    await page.mouse.move(bb.x + bb.width * 0.6, bb.y + bb.height * 0.7, { steps: 10 });
    await alice.locator('.cursor[data-user="bob"]').waitFor({ timeout: T });
    await carol.locator('.cursor[data-user="bob"]').waitFor({ timeout: T });
    // Leaving Alice's board removed her cursor from the others.
    await bob.locator('.cursor[data-user="alice"]').waitFor({ state: 'detached', timeout: T });
    // For the screenshot: Carol's cursor on the board too.
    await carol.locator('.cursor').first().waitFor({ timeout: T });
    const cb = (await carol.getByTestId('board').boundingBox())!;
    await page.mouse.move(cb.x + cb.width * 0.3, cb.y + cb.height * 0.35, { steps: 10 });
    await alice.locator('.cursor[data-user="carol"]').waitFor({ timeout: T });
    // One mouse only: park Bob's cursor with a synthetic move on his board, so the screenshot shows two cursors.
    await bob.getByTestId('board').evaluate((el) => {
      const r = el.getBoundingClientRect();
      el.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: r.left + r.width * 0.62, clientY: r.top + r.height * 0.68 }));
    });
    await alice.locator('.cursor[data-user="bob"]').waitFor({ timeout: T });
    await page.waitForTimeout(150);
    await screenshot(page, 'demo-presence-cursors');
    expect(session.errors(page)).toEqual([]);
  }, DEMO_TIMEOUT);
});

describe('Call invite (in-page server)', () => {
  test('rings every device of the callee; accepting on one stops the others and answers the exact caller endpoint', async ({ session }) => {
    const page = await openDemo(session, 'demos-call-invite--two-users-four-devices');
    await allOpen(page, 4);
    const aliceLaptop = pane(page, 'Alice on laptop');
    const alicePhone = pane(page, 'Alice on phone');
    const bobLaptop = pane(page, 'Bob on laptop');
    const bobPhone = pane(page, 'Bob on phone');

    await aliceLaptop.getByRole('button', { name: 'Call Bob' }).click();
    await aliceLaptop.locator('[data-testid="outgoing"][data-status="calling"]').waitFor({ timeout: T });
    await bobLaptop.locator('[data-testid="incoming"][data-status="ringing"]', { hasText: 'Alice is calling…' }).waitFor({ timeout: T });
    await bobPhone.locator('[data-testid="incoming"][data-status="ringing"]', { hasText: 'Alice is calling…' }).waitFor({ timeout: T });
    expect(await alicePhone.getByTestId('incoming').count()).toBe(0);
    await screenshot(page, 'demo-call-invite-ringing');

    await bobPhone.getByRole('button', { name: 'Accept' }).click();
    await bobPhone.locator('[data-testid="incoming"][data-status="accepted"]', { hasText: 'In a call with Alice' }).waitFor({ timeout: T });
    await bobLaptop.locator('[data-testid="incoming"][data-status="elsewhere"]', { hasText: 'Answered on phone' }).waitFor({ timeout: T });
    await aliceLaptop.locator('[data-testid="outgoing"][data-status="accepted"]', { hasText: 'Bob accepted on phone' }).waitFor({ timeout: T });
    expect(await aliceLaptop.getByTestId('outgoing').textContent()).toMatch(/reply from bob\/phone\/\S+/);
    // The accept went to the caller's exact endpoint: Alice's phone got nothing.
    await page.waitForTimeout(200);
    expect(await alicePhone.getByTestId('outgoing').count()).toBe(0);
    expect(await alicePhone.getByTestId('incoming').count()).toBe(0);
    expect(await alicePhone.locator('.call-log li').allTextContents()).toEqual(['none yet']);
    expect(await bobLaptop.locator('.ringing').count()).toBe(0);
    await screenshot(page, 'demo-call-invite');

    // Bob calls Alice back: both of Alice's devices ring; declining on one stops the other.
    await bobPhone.getByRole('button', { name: 'Hang up' }).click();
    await aliceLaptop.locator('[data-testid="outgoing"][data-status="ended"]').waitFor({ timeout: T });
    await bobLaptop.getByRole('button', { name: 'Call Alice' }).click();
    await aliceLaptop.locator('[data-testid="incoming"][data-status="ringing"]').waitFor({ timeout: T });
    await alicePhone.locator('[data-testid="incoming"][data-status="ringing"]').waitFor({ timeout: T });
    await alicePhone.getByRole('button', { name: 'Decline' }).click();
    await aliceLaptop.locator('[data-testid="incoming"][data-status="elsewhere"]', { hasText: 'Declined on phone' }).waitFor({ timeout: T });
    await bobLaptop.locator('[data-testid="outgoing"][data-status="declined"]', { hasText: 'Alice declined on phone' }).waitFor({ timeout: T });
    expect(session.errors(page)).toEqual([]);
  }, DEMO_TIMEOUT);
});

describe('Reconnect (in-page server)', () => {
  test('dropping a connection: the others see the user leave and come back with their state', async ({ session }) => {
    const page = await openDemo(session, 'demos-reconnect--three-users');
    await allOpen(page, 3);
    const alice = pane(page, 'Alice on web');
    const bob = pane(page, 'Bob on web');
    const carol = pane(page, 'Carol on web');
    for (const p of [alice, bob, carol]) await p.locator('.rss-presence__item').nth(2).waitFor({ timeout: T });

    for (let i = 0; i < 3; i++) await bob.getByRole('button', { name: 'Like +1' }).click();
    await alice.getByTestId('likes-bob').filter({ hasText: '♥ 3' }).waitFor({ timeout: T });
    await carol.getByTestId('likes-bob').filter({ hasText: '♥ 3' }).waitFor({ timeout: T });

    await bob.getByRole('button', { name: 'Drop connection' }).click();
    // Bob's own pane went through reconnecting and is open again.
    await bob.getByTestId('reconnects').filter({ hasText: '1' }).waitFor({ timeout: T });
    await bob.locator('.pane-head .conn[data-state="open"]').waitFor({ timeout: T });
    // Alice and Carol saw Bob leave, then come back ...
    for (const p of [alice, carol]) {
      await p.locator('.event-log li[data-kind="leave"]', { hasText: 'Bob left' }).first().waitFor({ timeout: T });
      await p.locator('.event-log li[data-kind="leave"] ~ li[data-kind="join"]', { hasText: 'Bob joined' }).first().waitFor({ timeout: T });
      // ... with his state restored.
      await p.getByTestId('likes-bob').filter({ hasText: '♥ 3' }).waitFor({ timeout: T });
    }
    const log = await alice.locator('.event-log li').allTextContents();
    expect(log.findIndex((l) => l.includes('Bob left'))).toBeLessThan(log.map((l) => l.includes('Bob joined')).lastIndexOf(true));
    // Bob sees everyone again and his own likes are kept.
    await bob.locator('.rss-presence__item').nth(2).waitFor({ timeout: T });
    expect(await bob.getByTestId('my-likes').textContent()).toBe('3');

    // Offline: Carol stays out (reconnecting) until back online.
    await carol.getByRole('button', { name: 'Go offline' }).click();
    await carol.locator('.pane-head .conn[data-state="reconnecting"]').waitFor({ timeout: T });
    await alice.locator('.event-log li', { hasText: 'Carol left' }).first().waitFor({ timeout: T });
    await page.waitForTimeout(1500);
    expect(await carol.locator('.pane-head .conn').getAttribute('data-state')).toBe('reconnecting');
    expect(await alice.getByTestId('likes-carol').count()).toBe(0);
    await screenshot(page, 'demo-reconnect-offline');
    await carol.getByRole('button', { name: 'Go online' }).click();
    // Backoff grows while offline (1 s, 2 s, 4 s caps with jitter): allow for it.
    await carol.locator('.pane-head .conn[data-state="open"]').waitFor({ timeout: T });
    await alice.locator('.event-log li[data-kind="leave"] ~ li', { hasText: 'Carol joined' }).first().waitFor({ timeout: T });
    await alice.getByTestId('likes-carol').waitFor({ timeout: T });
    await screenshot(page, 'demo-reconnect');
    expect(session.errors(page)).toEqual([]);
  }, DEMO_TIMEOUT);
});
