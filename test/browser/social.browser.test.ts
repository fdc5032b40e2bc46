/**
 * Issue 16 item 7 in a real chromium against a real server: a contact's menu
 * (remark, block, unblock) and the block list in Profile; changing the password
 * and deleting the account; inviting friends to a group with the member count
 * following for the inviter, the invitee and the members already in; the group settings (name, announcement, group-wide and
 * per-member mute, roles, kick) with notices drawn as centred lines; and a
 * refused send saying why. axe-core checks each new screen.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  hasChromium,
  seriousA11yViolations,
  waitForTexts,
  webAppSuite,
  type ChatPage,
} from '../support/browser.js';

const required = Boolean(process.env.CI_REQUIRE_SERVICES);

describe.skipIf(!hasChromium && !required)('social and group controls in chromium', () => {
  const suite = webAppSuite();

  async function friends(a: ChatPage, b: ChatPage): Promise<void> {
    await a.requestFriend(b);
    await b.acceptFriend(a);
  }

  async function expectAccessible(page: Page, screen: string): Promise<void> {
    expect(await seriousA11yViolations(page), screen).toEqual([]);
  }

  /** Types and sends a message that the server refuses; resolves the reason shown under it. */
  async function sendRefused(chat: ChatPage, text: string): Promise<string> {
    await chat.testId('composer').fill(text);
    await chat.testId('composer').press('Enter');
    const row = chat.page.locator('[data-testid=message][data-status=failed]', { hasText: text });
    await row.waitFor();
    return (await row.getByTestId('send-error').textContent()) ?? '';
  }

  async function openFriendMenu(chat: ChatPage, nickname: string): Promise<void> {
    await chat.tab('Contacts');
    await chat
      .testId('friend-item')
      .filter({ hasText: nickname })
      .getByTestId('friend-menu')
      .click();
  }

  async function openGroup(chat: ChatPage, name: string): Promise<void> {
    await chat.tab('Groups');
    await chat.testId('group').filter({ hasText: name }).click();
    await chat.testId('chat-title').filter({ hasText: name }).waitFor();
  }

  async function groupMenu(chat: ChatPage, item: 'invite-members' | 'group-settings-open') {
    await chat.testId('conversation-menu-button').click();
    await chat.testId(item).click();
  }

  const memberCount = (chat: ChatPage, count: string) =>
    chat
      .testId('member-count')
      .filter({ hasText: new RegExp(`^${count} members?`) })
      .waitFor();

  it('a remark shows in place of the nickname; a blocked contact’s message is refused on their side', async () => {
    const { chat: ann } = await suite.person('Ann');
    const { chat: ben } = await suite.person('Ben');
    await friends(ann, ben);

    // Remark, from the contact's menu (by keyboard: the menu takes the focus).
    await openFriendMenu(ann, 'Ben');
    await ann.page.keyboard.press('Enter');
    await ann.testId('remark-input').fill('Ben from work');
    await expectAccessible(ann.page, 'contacts with the remark form');
    await ann.testId('save-remark').click();
    const row = ann.testId('friend-item').filter({ hasText: 'Ben' });
    await row.getByTestId('friend-name').filter({ hasText: 'Ben from work' }).waitFor();
    // The nickname stays visible next to the remark.
    expect(await row.getByTestId('friend-nickname').textContent()).toContain('Ben');

    await ann.chatWith(ben);
    expect(await ann.testId('chat-title').textContent()).toBe('Ben from work');
    expect(await ann.testId('chat-nickname').textContent()).toContain('Ben');
    await ann.send('Hi Ben');
    await ann.tab('Chats');
    await ann.page.locator('[data-testid=conversation][data-title="Ben from work"]').waitFor();
    // Only Ann's view changes: Ben still sees her as Ann, and himself as Ben.
    await ben.openConversation('Ann');
    await ben.waitForMessages(['Hi Ben']);

    // Ann blocks Ben: his next message is refused, and he is told.
    await openFriendMenu(ann, 'Ben');
    await ann.testId('block').click();
    await ann.page.getByRole('alert').filter({ hasText: 'is blocked' }).waitFor();
    await row.getByText('blocked', { exact: false }).waitFor();
    expect(await sendRefused(ben, 'Are you ignoring me?')).toContain(
      'does not accept messages from you',
    );

    // Ann's Profile lists whom she blocked; Unblock there lets Ben through again.
    await ann.tab('Me');
    const blocked = ann.testId('blocked-user').filter({ hasText: 'Ben' });
    await blocked.waitFor();
    await expectAccessible(ann.page, 'profile with the block list');
    await blocked.getByTestId('unblock-user').click();
    await ann.testId('empty-blocked').waitFor();
    await ben.page
      .locator('[data-testid=message][data-status=failed]', { hasText: 'Are you ignoring me?' })
      .getByTestId('retry')
      .click();
    await ben.page
      .locator('[data-testid=message][data-status=sent]', { hasText: 'Are you ignoring me?' })
      .waitFor();
    await ann.openConversation('Ben from work');
    await ann.waitForMessages(['Hi Ben', 'Are you ignoring me?']);

    // And the menu unblocks too.
    await openFriendMenu(ann, 'Ben');
    await ann.testId('block').click();
    await openFriendMenu(ann, 'Ben');
    await ann.testId('unblock').click();
    await ann.page.getByRole('alert').filter({ hasText: 'unblocked' }).waitFor();
    await ann.tab('Me');
    await ann.testId('empty-blocked').waitFor();

    // The chat's own menu blocks and unblocks its peer as well.
    await ann.testId('conversation-menu-button').click();
    await ann.testId('block-peer').click();
    await ann.testId('blocked-user').filter({ hasText: 'Ben' }).waitFor();
    await ann.testId('conversation-menu-button').click();
    await ann.testId('unblock-peer').click();
    await ann.testId('empty-blocked').waitFor();
  });

  it('a changed password keeps this tab working and is the one that logs in; a deleted account is back at the login screen', async () => {
    const { chat: cat } = await suite.person('Cat');
    const { chat: dov } = await suite.person('Dov');
    await friends(cat, dov);
    await cat.tab('Me');
    await cat.testId('old-password').fill('not-my-password');
    await cat.testId('new-password').fill('battery-staple-2');
    await cat.testId('change-password').click();
    await cat.page.getByRole('alert').filter({ hasText: 'password is incorrect' }).waitFor();

    await cat.testId('old-password').fill('correct-horse-1');
    await cat.testId('new-password').fill('battery-staple-2');
    await cat.testId('change-password').click();
    await cat.page.getByRole('alert').filter({ hasText: 'Password changed' }).waitFor();
    // The tab carries on with the new token: live messages still arrive.
    await dov.chatWith(cat);
    await dov.send('Still there?');
    await cat.openConversation('Dov');
    await cat.waitForMessages(['Still there?']);
    await cat.send('Yes');

    // A reload keeps the session (the new token was saved) …
    await cat.page.reload();
    await cat.testId('me').filter({ hasText: 'Cat' }).waitFor();
    // … and after logging out, only the new password logs in.
    await cat.tab('Me');
    await cat.page.getByRole('button', { name: 'Log out' }).click();
    const login = async (password: string) => {
      await cat.page.locator('input[name=phone]').fill(cat.phone);
      await cat.page.locator('input[name=password]').fill(password);
      await cat.page.getByRole('button', { name: 'Log in', exact: true }).click();
    };
    await login('correct-horse-1');
    await cat.page.locator('.form-error').filter({ hasText: 'incorrect' }).waitFor();
    await login('battery-staple-2');
    await cat.testId('me').filter({ hasText: 'Cat' }).waitFor();

    // Deleting the account asks for the password, then shows the login screen.
    await cat.tab('Me');
    await cat.testId('delete-account').click();
    await cat.testId('delete-password').fill('wrong-password');
    await cat.testId('confirm-delete-account').click();
    await cat.page.getByRole('alert').filter({ hasText: 'password is incorrect' }).waitFor();
    await expectAccessible(cat.page, 'delete account');
    await cat.testId('delete-password').fill('battery-staple-2');
    await cat.testId('confirm-delete-account').click();
    await cat.page.getByRole('tab', { name: 'Log in' }).waitFor();
    await cat.page.locator('.form-error').filter({ hasText: 'account was deleted' }).waitFor();
    await login('battery-staple-2');
    await cat.page.locator('.form-error').filter({ hasText: 'incorrect' }).waitFor();
    expect(await cat.testId('me').count()).toBe(0);
  });

  it('invites, group settings, mutes, roles and kicks, with notices as centred lines and counts following live', async () => {
    const { chat: dan } = await suite.person('Dan');
    const { chat: eva } = await suite.person('Eva');
    const { chat: fay } = await suite.person('Fay');
    await friends(dan, eva);
    await friends(dan, fay);

    await dan.tab('Groups');
    await dan.testId('group-name').fill('Book club');
    await dan.testId('create-group').click();
    await openGroup(dan, 'Book club');
    await memberCount(dan, '1');

    // Invite Eva from the group's menu, picking her from Dan's friends.
    await groupMenu(dan, 'invite-members');
    await dan.testId('invite-filter').fill('ev');
    await waitForTexts(dan.testId('invitee'), (t) => t.length === 1, 'only Eva matches');
    await expectAccessible(dan.page, 'invite panel');
    await dan.testId('invitee').filter({ hasText: 'Eva' }).getByTestId('invite-friend').click();
    await dan.page.getByRole('alert').filter({ hasText: 'Eva joined the group' }).waitFor();
    await memberCount(dan, '2');
    // Eva is told by push: the group is in her list, two members strong.
    await openGroup(eva, 'Book club');
    await memberCount(eva, '2');
    // She is no longer offered; Fay is.
    await dan.testId('invite-filter').fill('');
    await waitForTexts(
      dan.testId('invitee').locator('.row-title'),
      (t) => t.join() === 'Fay',
      'only Fay left to invite',
    );
    await dan.testId('invite-friend').click();
    await memberCount(dan, '3');
    await openGroup(fay, 'Book club');
    await memberCount(fay, '3');
    // Eva, already in, follows by the member.joined notice.
    await memberCount(eva, '3');
    await eva.testId('group-notice').filter({ hasText: 'Dan invited Fay' }).waitFor();
    await dan.testId('no-invitees').waitFor();
    await dan.testId('close-panel').click();

    // Dan renames the group and sets an announcement: everyone sees it live, as a
    // centred notice line in the chat, not a bubble.
    await groupMenu(dan, 'group-settings-open');
    await dan.testId('group-name-input').fill('Readers');
    await dan.testId('announcement-input').fill('Chapter 3 by Friday');
    await expectAccessible(dan.page, 'group settings');
    await dan.testId('update-group').click();
    await dan.testId('chat-title').filter({ hasText: 'Readers' }).waitFor();
    for (const member of [eva, fay]) {
      await member.testId('chat-title').filter({ hasText: 'Readers' }).waitFor();
      await member.testId('announcement').filter({ hasText: 'Chapter 3 by Friday' }).waitFor();
      await member
        .testId('group-notice')
        .filter({ hasText: 'Dan renamed the group to “Readers”' })
        .waitFor();
    }
    await dan.testId('group-notice').filter({ hasText: 'You renamed the group' }).waitFor();
    expect(await eva.messages().count()).toBe(0);

    // Eva, not a manager, reads the same info without controls.
    await groupMenu(eva, 'group-settings-open');
    await eva.testId('group-info').filter({ hasText: 'Chapter 3 by Friday' }).waitFor();
    expect(await eva.testId('update-group').count()).toBe(0);
    expect(await eva.testId('mute-member').count()).toBe(0);
    await expectAccessible(eva.page, 'group info (member)');
    await eva.testId('close-panel').click();

    // The group is muted: Eva's composer says so, and a send is refused with the reason.
    await dan.testId('mute-group').click();
    await eva.testId('composer-muted').filter({ hasText: 'The group is muted' }).waitFor();
    await eva.testId('group-notice').filter({ hasText: 'Dan muted the group' }).waitFor();
    expect(await sendRefused(eva, 'Can I speak?')).toContain('the group is muted');
    // The creator still posts.
    await dan.send('Quiet please');
    await eva.messages().filter({ hasText: 'Quiet please' }).waitFor();
    await dan.testId('mute-group').click();
    await eva.testId('composer-muted').waitFor({ state: 'detached' });
    await eva.send('Thanks');

    // Promote Eva, then step her back down.
    const evaRow = dan.testId('member-row').filter({ hasText: 'Eva' });
    await evaRow.getByTestId('toggle-manager').click();
    await evaRow.getByTestId('member-status').filter({ hasText: 'manager' }).waitFor();
    await eva.testId('group-notice').filter({ hasText: 'Dan made you a manager' }).waitFor();
    await evaRow.getByTestId('toggle-manager').click();
    await evaRow
      .getByTestId('member-status')
      .filter({ hasText: 'manager' })
      .waitFor({ state: 'detached' });

    // Fay muted for 5 minutes: told by push; her send is refused; lifted, she posts.
    const fayRow = dan.testId('member-row').filter({ hasText: 'Fay' });
    await fayRow.getByTestId('mute-minutes').fill('5');
    await fayRow.getByTestId('mute-member').click();
    await fayRow.getByTestId('member-status').filter({ hasText: 'muted until' }).waitFor();
    await fay.testId('composer-muted').filter({ hasText: 'You are muted' }).waitFor();
    expect(await sendRefused(fay, 'Hello?')).toContain('you are muted in this group');
    // A reload still knows (from the notice in the history).
    await fay.page.reload();
    await fay.testId('chat-title').filter({ hasText: 'Readers' }).waitFor();
    await fay.testId('composer-muted').filter({ hasText: 'You are muted' }).waitFor();
    await fayRow.getByTestId('unmute-member').click();
    await fay.testId('composer-muted').waitFor({ state: 'detached' });
    await fay.send('Back again');

    // Notices never count as unread: with another chat open, Eva gets no badge for them.
    await eva.tab('Contacts');
    await eva.testId('friend').filter({ hasText: 'Dan' }).click();
    await fayRow.getByTestId('mute-minutes').fill('1');
    await fayRow.getByTestId('mute-member').click();
    await fayRow.getByTestId('unmute-member').click();
    await eva.tab('Chats');
    const evaGroup = eva.page.locator('[data-testid=conversation][data-title="Readers"]');
    await evaGroup.filter({ hasText: 'Dan unmuted Fay' }).waitFor();
    expect(await evaGroup.getByTestId('unread').count()).toBe(0);

    // Kick Fay (two clicks): the count drops for Dan and the group leaves Fay's list.
    await fayRow.getByTestId('kick-member').click();
    await fayRow.getByTestId('kick-member').click();
    await memberCount(dan, '2');
    await eva.openConversation('Readers');
    await memberCount(eva, '2');
    await eva.testId('group-notice').filter({ hasText: 'Dan removed Fay' }).waitFor();
    await fay.tab('Groups');
    await fay.testId('group').filter({ hasText: 'Readers' }).waitFor({ state: 'detached' });
  }, 90_000);

  it('every notice type is a centred line from the reader’s side, an unknown one a neutral line, none unread; system notices are cards', async () => {
    const { chat: gil } = await suite.person('Gil');
    const { chat: hal } = await suite.person('Hal');
    const idOf = async (chat: ChatPage) => {
      await chat.tab('Me');
      return chat.testId('my-id').inputValue();
    };
    const [gilId, halId] = [await idOf(gil), await idOf(hal)];
    await gil.tab('Groups');
    await gil.testId('group-name').fill('Notices');
    await gil.testId('create-group').click();
    const groupId = (await gil
      .testId('group')
      .filter({ hasText: 'Notices' })
      .getAttribute('data-id'))!;
    await hal.tab('Groups');
    await hal.testId('join-group-id').fill(groupId);
    await hal.testId('join-group').click();
    await openGroup(hal, 'Notices');
    await openGroup(gil, 'Notices');

    // Posted the way the server posts every notice (in a transaction, pushed from the outbox).
    const notices = [
      { type: 'member.joined', operatorId: halId, userId: halId, roleLevel: 3, joinSource: 2 },
      { type: 'member.joined', operatorId: gilId, userId: halId, inviterId: gilId },
      { type: 'member.role', operatorId: gilId, userId: halId, roleLevel: 2, oldRoleLevel: 3 },
      { type: 'member.role', operatorId: gilId, userId: halId, roleLevel: 3, oldRoleLevel: 2 },
      { type: 'member.kicked', operatorId: gilId, userId: halId },
      { type: 'member.left', operatorId: halId, userId: halId },
      { type: 'group.updated', operatorId: gilId, isVerify: true },
      { type: 'group.dismissed', operatorId: gilId },
      { type: 'group.archived', operatorId: gilId, reason: 'from a newer server' },
    ];
    const { app } = suite.t;
    for (const notice of notices) {
      await app.storage.db
        .transaction()
        .execute((trx) =>
          app.services.im.notices.post(
            trx,
            groupId,
            notice as Parameters<typeof app.services.im.notices.post>[2],
          ),
        );
    }
    const lines = {
      hal: [
        'You joined the group',
        'Gil invited you',
        'Gil made you a manager',
        'Gil removed you as a manager',
        'Gil removed you',
        'You left the group',
        'Gil made joining need approval',
        'Gil dismissed the group',
        'Gil changed the group',
      ],
      gil: [
        'Hal joined the group',
        'You invited Hal',
        'You made Hal a manager',
        'You removed Hal as a manager',
        'You removed Hal',
        'Hal left the group',
        'You made joining need approval',
        'You dismissed the group',
        'You changed the group',
      ],
    };
    for (const [chat, expected] of [
      [hal, lines.hal],
      [gil, lines.gil],
    ] as const) {
      await waitForTexts(
        chat.testId('group-notice'),
        (shown) => shown.slice(-expected.length).join('\n') === expected.join('\n'),
        `${chat.nickname} to see every notice`,
      );
      // Lines, not bubbles: no message content, nothing unread.
      expect(await chat.messages().count()).toBe(0);
    }
    await expectAccessible(hal.page, 'notices');
    // The same from history after a reload, and the list shows the last one, unbadged.
    await hal.page.reload();
    await waitForTexts(
      hal.testId('group-notice'),
      (shown) => shown.slice(-lines.hal.length).join('\n') === lines.hal.join('\n'),
      'Hal to see every notice again from history',
    );
    await hal.tab('Chats');
    const row = hal.page.locator('[data-testid=conversation][data-title="Notices"]');
    await row.filter({ hasText: 'Gil changed the group' }).waitFor();
    expect(await row.getByTestId('unread').count()).toBe(0);

    // A notice from another system (mType 3, kind system_notice) is a card too, in the
    // group and in the user's own conversation with the system.
    const notice = { title: 'Maintenance', content: 'Back at 02:00', source: 'ops' };
    await app.services.im.systemNotices.postToGroup(groupId, { noticeId: 'n-1', ...notice });
    await app.services.im.systemNotices.postToUsers([halId], { noticeId: 'n-2', ...notice });
    await row.filter({ hasText: '📣 Maintenance' }).waitFor();
    await hal.openConversation('System notices');
    await hal.testId('system-notice').filter({ hasText: 'Maintenance: Back at 02:00' }).waitFor();
    await hal.openConversation('Notices');
    await hal.testId('system-notice').filter({ hasText: 'Maintenance: Back at 02:00' }).waitFor();
    expect(await hal.messages().count()).toBe(0);
  });
});
