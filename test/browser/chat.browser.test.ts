/**
 * The web app in a real browser (headless Debian chromium through playwright-core)
 * against a real server: registration, friends, chat both ways with read receipts,
 * an offline client catching up in order, a refused send retried, a reopened page
 * scrolling back through history, two tabs as two devices, a group of three with
 * approval to join, the profile, and the phone-width layout.
 * UPDATE_SCREENSHOT=1 rewrites docs/screenshot.png and docs/screenshot-phone.png.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChatClient } from '@easy-chat/sdk';
import type { Browser, BrowserContext } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePhone } from '../support/factories.js';
import {
  buildWebApp,
  ChatPage,
  hasChromium,
  launchChromium,
  waitForTexts,
} from '../support/browser.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const required = Boolean(process.env.CI_REQUIRE_SERVICES);

describe.skipIf(!hasChromium && !required)('web app in chromium', () => {
  let t: TestApp;
  let webDir: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    webDir = await buildWebApp();
    t = await startTestApp({ overrides: { web: { dir: webDir } } });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  });

  async function person(nickname: string, viewport = { width: 1280, height: 800 }) {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const chat = new ChatPage(page, uniquePhone(), nickname);
    await chat.register(t.url);
    return { chat, context };
  }

  async function loginAs(chat: ChatPage): Promise<{ id: string; token: string }> {
    const login = await t.client.post('/v1/user/login', {
      phone: chat.phone,
      password: 'correct-horse-1',
    });
    const token = login.body.data.token as string;
    const me = await t.client.withToken(token).get('/v1/user/user');
    return { id: me.body.data.info.id as string, token };
  }

  it('two people befriend, chat both ways with read receipts, and one catches up after being offline', async () => {
    const { chat: alice } = await person('Alice');
    const { chat: bob, context: bobContext } = await person('Bob');

    await alice.requestFriend(bob);
    await bob.acceptFriend(alice);

    await alice.chatWith(bob);
    await alice.send('Hi Bob!');

    // Bob sees the new conversation with an unread badge and the last message.
    await bob.tab('Chats');
    const row = bob.page.locator('[data-testid=conversation][data-title="Alice"]');
    await row.getByTestId('unread').filter({ hasText: '1' }).waitFor();
    expect(await row.textContent()).toContain('Hi Bob!');
    await bob.openConversation('Alice');
    await bob.waitForMessages(['Hi Bob!']);
    await row.getByTestId('unread').waitFor({ state: 'detached' });

    // Bob opened it: Alice's message shows as read.
    await alice.testId('receipt').filter({ hasText: 'Read' }).waitFor();

    await bob.send('Hello Alice, good to see you.');
    await alice.waitForMessages(['Hi Bob!', 'Hello Alice, good to see you.']);
    await bob.testId('receipt').filter({ hasText: 'Read' }).waitFor();
    await alice.tab('Chats');
    await alice.page
      .locator('[data-testid=conversation][data-title="Bob"] [data-testid=online-dot]')
      .waitFor();

    const said = ['Hi Bob!', 'Hello Alice, good to see you.'];
    if (process.env.UPDATE_SCREENSHOT) {
      said.push('Are you coming to the meetup tonight?', 'Yes! See you at 7.');
      await alice.send(said[2]!);
      await bob.waitForMessages([said[2]!]);
      // Bob answers the question as a reply (quoted above his message).
      const question = bob.testId('message').filter({ hasText: said[2]! });
      await question.hover();
      await question.getByTestId('message-menu-button').click();
      await question.getByTestId('reply').click();
      await bob.send(said[3]!);
      await alice.waitForMessages([said[3]!]);
      const notice = alice.page.getByRole('alert');
      if (await notice.isVisible()) await notice.click();
      await notice.waitFor({ state: 'detached' });
      await alice.page.screenshot({
        path: resolve(import.meta.dirname, '../../docs/screenshot.png'),
      });
    }

    // Bob goes offline: the network drops and his socket is cut.
    const bobId = (await loginAs(bob)).id;
    await bobContext.setOffline(true);
    t.app.connections.closeUser(bobId, 4008, 'test: connection lost');
    await bob.testId('reconnecting').waitFor();
    // Alice sees him go at once: presence is pushed (the poll runs once a minute).
    const bobsDot = alice.page.locator(
      '[data-testid=conversation][data-title="Bob"] [data-testid=online-dot]',
    );
    await bobsDot.waitFor({ state: 'detached', timeout: 5_000 });

    const missed = ['While you were away 1', 'While you were away 2', 'While you were away 3'];
    for (const text of missed) await alice.send(text);
    // Stored on the server, not on Bob's screen: he really is offline.
    expect(await bob.messages().allTextContents()).not.toContain(missed[0]);
    expect(await bob.testId('reconnecting').isVisible()).toBe(true);

    // Back online: the app reconnects, syncs and shows the missed messages in order, once.
    await bobContext.setOffline(false);
    await bob.testId('reconnecting').waitFor({ state: 'detached', timeout: 30_000 });
    await bobsDot.waitFor({ timeout: 5_000 });
    await bob.waitForMessages(missed);
    const shown = await bob.messages().allTextContents();
    expect(shown).toEqual([...said, ...missed]);

    // A send the server refuses (no longer friends) shows as failed with Retry; once they
    // are friends again, Retry sends it with the same clientMsgId.
    const bobAuth = await loginAs(bob);
    const aliceAuth = await loginAs(alice);
    const asBob = t.client.withToken(bobAuth.token);
    const asAlice = t.client.withToken(aliceAuth.token);
    await asBob.delete('/v1/social/friend', { query: { friendUid: aliceAuth.id } });
    await alice.testId('composer').fill('Still friends?');
    await alice.testId('composer').press('Enter');
    const failed = alice.page.locator('[data-testid=message][data-status=failed]');
    await failed.filter({ hasText: 'Still friends?' }).waitFor();
    const asked = await asAlice.post('/v1/social/friend/putIn', { userId: bobAuth.id });
    await asBob.put('/v1/social/friend/putIn', {
      friendReqId: asked.body.data.id,
      handleResult: 2,
    });
    await alice.testId('retry').click();
    await alice.page
      .locator('[data-testid=message][data-status=sent]')
      .filter({ hasText: 'Still friends?' })
      .waitFor();
    await bob.waitForMessages(['Still friends?']);
  });

  it('a closed page comes back with the history in order, and two tabs act as two devices', async () => {
    const { chat: carol } = await person('Carol');
    const { chat: dan, context: danContext } = await person('Dan');
    await carol.requestFriend(dan);
    await dan.acceptFriend(carol);
    await dan.chatWith(carol);
    await dan.send('before');

    await dan.page.close();
    const sent = ['one', 'two', 'three'];
    await carol.chatWith(dan);
    for (const text of sent) await carol.send(text);
    // Then a script of Carol's sends a batch through the SDK: more than one history page.
    const script = new ChatClient({
      baseUrl: t.url,
      WebSocket,
      token: (await loginAs(carol)).token,
    });
    await script.connect();
    const batch = Array.from({ length: 40 }, (_, i) => `batch ${i + 1}`);
    const danId = (await loginAs(dan)).id;
    for (const content of batch) await script.send({ chatType: 2, recvId: danId, content });
    script.disconnect();
    const everything = ['before', ...sent, ...batch];

    // Dan opens the app again in two tabs: the session is kept, history is complete.
    const tab1 = new ChatPage(await danContext.newPage(), dan.phone, dan.nickname);
    const tab2 = new ChatPage(await danContext.newPage(), dan.phone, dan.nickname);
    for (const tab of [tab1, tab2]) {
      tab.page.setDefaultTimeout(15_000);
      await tab.page.goto(t.url);
      await tab.testId('me').filter({ hasText: 'Dan' }).waitFor();
    }
    // Only the front tab runs at full speed (background tabs' timers are throttled).
    await tab1.page.bringToFront();
    await tab1.openConversation('Carol');
    // The newest page first; scrolling to the top loads the earlier ones, in order.
    await tab1.waitForMessages(batch.slice(-30));
    expect(await tab1.messages().allTextContents()).not.toContain('before');
    await tab1.testId('messages').evaluate((el) => el.scrollTo({ top: 0 }));
    await waitForTexts(
      tab1.messages(),
      (shown) => shown.join('\n') === everything.join('\n'),
      'the whole history',
    );
    await tab2.page.bringToFront();
    await tab2.openConversation('Carol');
    await tab1.page.bringToFront();
    await tab1.send('from tab 1');
    await tab2.waitForMessages(['batch 40', 'from tab 1']);
    await carol.waitForMessages(['batch 40', 'from tab 1']);
  });

  it('a group of three: approval to join, members, and chat', async () => {
    const { chat: erin } = await person('Erin');
    const { chat: finn } = await person('Finn');
    // The third member uses a phone-width window.
    const { chat: gus } = await person('Gus', { width: 390, height: 844 });

    // Erin's group needs approval to join.
    await erin.tab('Groups');
    await erin.testId('group-name').fill('Hiking club');
    await erin.page.getByLabel('Joining needs approval').check();
    await erin.testId('create-group').click();
    const group = erin.testId('group').filter({ hasText: 'Hiking club' });
    await group.waitFor();
    const groupId = (await group.getAttribute('data-id'))!;

    for (const member of [finn, gus]) {
      await member.tab('Groups');
      await member.testId('join-group-id').fill(groupId);
      await member.testId('join-group').click();
      await member.page.getByRole('alert').filter({ hasText: 'waiting for approval' }).waitFor();
    }
    // The requests arrive by push (group.request); nobody clicks Refresh.
    await waitForTexts(erin.testId('group-request'), (r) => r.length === 2, 'two join requests');
    for (const name of ['Finn', 'Gus']) {
      await erin
        .testId('group-request')
        .filter({ hasText: name })
        .getByTestId('approve-join')
        .click();
      await erin.testId('group-request').filter({ hasText: name }).waitFor({ state: 'detached' });
    }
    for (const member of [finn, gus]) {
      // Approval reaches the member by push (group.member.joined).
      await member.testId('group').filter({ hasText: 'Hiking club' }).click();
      await member.testId('chat-title').filter({ hasText: 'Hiking club' }).waitFor();
    }
    await erin.testId('group').filter({ hasText: 'Hiking club' }).click();
    await erin.testId('members-toggle').click();
    await waitForTexts(erin.testId('member'), (m) => m.length === 3, 'three members');

    await erin.send('Saturday at 9?');
    await finn.send('Works for me');
    await gus.send('Count me in');
    const all = ['Saturday at 9?', 'Works for me', 'Count me in'];
    for (const member of [erin, finn, gus]) await member.waitForMessages(all);

    if (process.env.UPDATE_SCREENSHOT) {
      const notice = gus.page.getByRole('alert');
      if (await notice.isVisible()) await notice.click();
      await notice.waitFor({ state: 'detached' });
      await gus.page.screenshot({
        path: resolve(import.meta.dirname, '../../docs/screenshot-phone.png'),
      });
    }
    // Profile: Erin changes her nickname.
    await erin.tab('Me');
    await erin.page.getByLabel('Nickname').fill('Erin the guide');
    await erin.page.getByRole('button', { name: 'Save' }).click();
    await erin.testId('me').filter({ hasText: 'Erin the guide' }).waitFor();

    // Phone width: the chat fills the screen and Back returns to the list.
    await gus.page.getByRole('button', { name: 'Back' }).click();
    await gus.tab('Chats');
    await gus.testId('conversations').waitFor();
    expect(await gus.testId('chat').count()).toBe(0);
    await gus.testId('conversation').filter({ hasText: 'Hiking club' }).waitFor();
  });
});
