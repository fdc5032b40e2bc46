/**
 * The web app's finish (issue 20, items 7-8) in a real chromium against a real
 * server: the phone layout with long unbroken text, day separators, grouped
 * messages, safe links, sent/delivered/read ticks, the unread total in the tab
 * title, desktop notifications while hidden, a URL per conversation, the offline
 * banner, image avatars, the dark theme, empty states, keyboard use, and axe-core
 * finding no serious or critical accessibility violation on each screen.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  ChatPage,
  hasChromium,
  seriousA11yViolations,
  webAppSuite,
  type WebAppSuite,
} from '../support/browser.js';

const required = Boolean(process.env.CI_REQUIRE_SERVICES);

/** A page-side stand-in for Notification and for the tab being hidden (headless has neither). */
const FAKE_NOTIFICATIONS = `
  window.__notes = [];
  window.__hidden = false;
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
    close() {}
  };
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get() { return window.__hidden ? 'hidden' : 'visible'; },
  });
`;

/** A 1x1 picture small enough for the 512-character avatar field. */
const AVATAR =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'%3E%3Crect width='1' height='1' fill='%23f97316'/%3E%3C/svg%3E";

describe.skipIf(!hasChromium && !required)('web app polish and accessibility in chromium', () => {
  const suite = webAppSuite();
  const person = (nickname: string, options?: Parameters<WebAppSuite['person']>[1]) =>
    suite.person(nickname, options);

  async function friends(a: ChatPage, b: ChatPage): Promise<void> {
    await a.requestFriend(b);
    await b.acceptFriend(a);
  }

  async function expectAccessible(page: Page, screen: string): Promise<void> {
    expect(await seriousA11yViolations(page), screen).toEqual([]);
  }

  function tickOf(chat: ChatPage, text: string) {
    return chat.page
      .locator('[data-testid=message]', { hasText: text })
      .getByTestId('tick')
      .getAttribute('data-tick');
  }

  async function waitForTick(chat: ChatPage, text: string, tick: string): Promise<void> {
    await chat.page
      .locator('[data-testid=message]', { hasText: text })
      .locator(`[data-testid=tick][data-tick=${tick}]`)
      .waitFor();
  }

  it('the login screen and an empty account are accessible and say what to do', async () => {
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(suite.t.url);
    await page.getByRole('tab', { name: 'Log in' }).waitFor();
    // One button named "Log in" (the submit); the switch is a tab.
    expect(await page.getByRole('button', { name: 'Log in', exact: true }).count()).toBe(1);
    await expectAccessible(page, 'login');
    await context.close();

    const { chat } = await person('Newcomer');
    await chat.testId('empty-chats').waitFor();
    await chat.testId('no-chat').waitFor();
    expect(await chat.page.getByRole('heading', { level: 1 }).count()).toBe(1);
    expect(await chat.page.getByRole('main').count()).toBe(1);
    expect(await chat.page.getByRole('tab').count()).toBe(4);
    await expectAccessible(chat.page, 'empty chats');
    await chat.tab('Contacts');
    await chat.testId('empty-friends').waitFor();
    await chat.tab('Groups');
    await chat.testId('empty-groups').waitFor();
    await expectAccessible(chat.page, 'empty groups');
  });

  it('ticks go sent, delivered, read; links are safe; days and runs of messages are marked; the URL keeps the chat', async () => {
    const { chat: ann } = await person('Ann');
    const { chat: ben, context: benContext } = await person('Ben', { init: FAKE_NOTIFICATIONS });
    await friends(ann, ben);
    await ann.chatWith(ben);
    // Opening a chat puts the keyboard in it.
    expect(await ann.page.evaluate("document.activeElement?.getAttribute('data-testid')")).toBe(
      'composer',
    );

    // Ben has no live connection: stored, not delivered.
    await ben.page.close();
    // Ann sees him go (user.presence) before she sends.
    await ann.page.locator('[data-testid=chat] [data-testid=online-dot]').waitFor({
      state: 'detached',
    });
    await ann.send('Are you there?');
    expect(await tickOf(ann, 'Are you there?')).toBe('sent');
    await ann.send('See https://example.com/a?b=1. Not javascript:alert(1) though');

    // Ben comes back (a new tab, the session kept): delivered, not read yet.
    const benPage = await benContext.newPage();
    benPage.setDefaultTimeout(15_000);
    const ben2 = new ChatPage(benPage, ben.phone, ben.nickname);
    await benPage.goto(suite.t.url);
    await ben2.testId('me').filter({ hasText: 'Ben' }).waitFor();
    await waitForTick(ann, 'Are you there?', 'delivered');
    // The unread total is in the tab title.
    await benPage.waitForFunction("document.title === '(2) easy-chat'");

    await ben2.openConversation('Ann');
    await ben2.waitForMessages([
      'Are you there?',
      'See https://example.com/a?b=1. Not javascript:alert(1) though',
    ]);
    await waitForTick(ann, 'Are you there?', 'read');
    await benPage.waitForFunction("document.title === 'easy-chat'");

    // Only the http(s) address is a link, without the full stop, opening safely.
    const links = ben2.messages().locator('a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.com/a?b=1');
    expect(await links.getAttribute('target')).toBe('_blank');
    expect(await links.getAttribute('rel')).toBe('noopener noreferrer nofollow');

    // One day separator (all today); Ann's second message joins her first.
    expect(await ben2.testId('day-separator').allTextContents()).toEqual(['Today']);
    const rows = ben2.testId('message');
    expect(await rows.nth(0).getAttribute('data-grouped')).toBeNull();
    expect(await rows.nth(1).getAttribute('data-grouped')).toBe('true');
    await expectAccessible(benPage, 'open chat');

    // The address names the chat; a reload comes back to it.
    expect(benPage.url()).toMatch(/#\/c\/.+/);
    await benPage.reload();
    await ben2.testId('chat-title').filter({ hasText: 'Ann' }).waitFor();
    await ben2.messages().filter({ hasText: 'Are you there?' }).waitFor();

    // While Ben's tab is hidden, a message from Ann shows a desktop notification.
    await benPage.evaluate(
      "window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))",
    );
    await ann.send('Ping while you are away');
    await ben2.messages().filter({ hasText: 'Ping while' }).waitFor();
    await benPage.waitForFunction('window.__notes.length >= 1');
    expect(await benPage.evaluate('window.__notes')).toEqual([
      { title: 'Ann', body: 'Ping while you are away' },
    ]);
    // Hidden: not read, so the title counts it.
    await benPage.waitForFunction("document.title === '(1) easy-chat'");
  });

  it('the phone layout holds with a long unbroken text and the offline banner never covers the header', async () => {
    const { chat: cat } = await person('Cat');
    const { chat: dov, context: dovContext } = await person('Dov', {
      viewport: { width: 390, height: 844 },
    });
    await friends(cat, dov);
    await cat.chatWith(dov);
    const long = 'x'.repeat(600);
    await cat.send(long);

    await dov.tab('Chats');
    await dov.testId('conversation').filter({ hasText: 'Cat' }).waitFor();
    const width = () => dov.page.evaluate<number>('document.documentElement.scrollWidth');
    expect(await width()).toBeLessThanOrEqual(390);
    const sidebar = await dov.page.locator('aside.sidebar').boundingBox();
    expect(sidebar!.width).toBeLessThanOrEqual(390);
    await dov.openConversation('Cat');
    await dov.waitForMessages([long]);
    expect(await width()).toBeLessThanOrEqual(390);
    const bubble = await dov.page.locator('.bubble').last().boundingBox();
    expect(bubble!.x + bubble!.width).toBeLessThanOrEqual(390);
    await expectAccessible(dov.page, 'phone chat');

    // The network goes: the banner shows at once (the browser's offline event), above the header.
    await dovContext.setOffline(true);
    const banner = dov.testId('reconnecting');
    await banner.waitFor({ timeout: 2_000 });
    const bannerBox = (await banner.boundingBox())!;
    const headerBox = (await dov.page.locator('.chat-header').boundingBox())!;
    expect(bannerBox.y + bannerBox.height).toBeLessThanOrEqual(headerBox.y + 0.5);
    expect(await dov.page.locator('.chat-header').isVisible()).toBe(true);
    await dovContext.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
  });

  it('image avatars, the dark theme, and everything by keyboard', async () => {
    const { chat: eve } = await person('Eve', { colorScheme: 'dark' });
    const { chat: fox } = await person('Fox');
    // Dark theme follows the system setting.
    const background = await eve.page.evaluate<string>(
      "getComputedStyle(document.querySelector('.pane')).backgroundColor",
    );
    expect(background).not.toBe('rgb(255, 255, 255)');
    await friends(eve, fox);

    await eve.tab('Me');
    await eve.testId('avatar-url').fill(AVATAR);
    await eve.page.getByRole('button', { name: 'Save' }).click();
    await eve.page.locator('header.me [data-testid=avatar-img]').waitFor();
    expect(
      await eve.page
        .locator('header.me [data-testid=avatar-img]')
        .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(0);

    // Fox sees Eve's picture in his friends list.
    await fox.tab('Contacts');
    await fox.page.getByRole('button', { name: 'Refresh' }).first().click();
    await fox.testId('friend').filter({ hasText: 'Eve' }).getByTestId('avatar-img').waitFor();

    await expectAccessible(eve.page, 'profile');
    await eve.chatWith(fox);
    await eve.send('Dark mode hello');
    await expectAccessible(eve.page, 'dark chat');

    // Fox, by keyboard only: Tab to the conversation, Enter opens it, type, Enter sends.
    await fox.tab('Chats');
    const row = fox.page.locator('[data-testid=conversation][data-title="Eve"]');
    await row.waitFor();
    await fox.page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 30 && !reached; i += 1) {
      await fox.page.keyboard.press('Tab');
      reached = await row.evaluate(
        (el) =>
          el ===
          (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument
            .activeElement,
      );
    }
    expect(reached).toBe(true);
    await fox.page.keyboard.press('Enter');
    await fox.testId('chat-title').filter({ hasText: 'Eve' }).waitFor();
    await fox.page.keyboard.type('Typed without a mouse');
    await fox.page.keyboard.press('Enter');
    await eve.waitForMessages(['Dark mode hello', 'Typed without a mouse']);
  });
});
