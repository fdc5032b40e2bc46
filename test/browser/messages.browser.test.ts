/**
 * Messages that live on, in the web app (issue 15, item 10), in a real chromium
 * against a real server: the message menu (hover button, right click, keyboard)
 * with reply, reactions, edit, recall and delete for me; the reply preview; the
 * "edited" and recalled placeholders; reaction chips; the typing line; @ autocomplete
 * and the mention badge in a group; pin and mute in the conversation menu.
 */
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  ChatPage,
  hasChromium,
  seriousA11yViolations,
  waitForTexts,
  webAppSuite,
} from '../support/browser.js';

const required = Boolean(process.env.CI_REQUIRE_SERVICES);

describe.skipIf(!hasChromium && !required)('message actions in chromium', () => {
  const suite = webAppSuite();
  const person = async (nickname: string) => (await suite.person(nickname)).chat;

  /** The message whose own text (not a quote of it) has `text`. */
  function message(chat: ChatPage, text: string): Locator {
    return chat
      .testId('message')
      .filter({ has: chat.page.locator('[data-testid=message-content]', { hasText: text }) });
  }

  /** Opens a message's menu the way a mouse user does: hover, then the ⋯ button. */
  async function menuOf(chat: ChatPage, text: string): Promise<Locator> {
    const row = message(chat, text);
    await row.hover();
    await row.getByTestId('message-menu-button').click();
    const menu = row.getByTestId('message-menu');
    await menu.waitFor();
    return menu;
  }

  it('reply, react, edit, recall, delete for me, typing, pin and mute between two people', async () => {
    const gil = await person('Gil');
    const hal = await person('Hal');
    await gil.requestFriend(hal);
    await hal.acceptFriend(gil);
    await gil.chatWith(hal);
    await gil.send('Original text');
    await hal.openConversation('Gil');
    await hal.waitForMessages(['Original text']);

    // Reply: the preview shows above the input; the sent message quotes the original.
    await (await menuOf(hal, 'Original text')).getByTestId('reply').click();
    await hal.testId('reply-preview').filter({ hasText: 'Original text' }).waitFor();
    // The keyboard is back in the input.
    expect(await hal.page.evaluate("document.activeElement?.getAttribute('data-testid')")).toBe(
      'composer',
    );
    await hal.send('Answer');
    await hal.testId('reply-preview').waitFor({ state: 'detached' });
    for (const chat of [hal, gil]) {
      await message(chat, 'Answer')
        .getByTestId('reply-quote')
        .filter({ hasText: 'Original text' })
        .waitFor();
    }

    // Typing: Gil sees Hal typing; it goes when Hal empties the input.
    await hal.testId('composer').fill('I am writ');
    await gil.testId('typing').filter({ hasText: 'Hal is typing…' }).waitFor();
    await hal.testId('composer').fill('');
    await waitForTexts(gil.testId('typing'), (t) => t[0] === '', 'typing line to clear');

    // React: the menu's emoji, then the chip toggles it off.
    await (await menuOf(gil, 'Answer')).getByRole('menuitem', { name: 'React 👍' }).click();
    for (const chat of [gil, hal]) {
      await message(chat, 'Answer').getByTestId('reaction').filter({ hasText: '👍 1' }).waitFor();
    }
    expect(await message(gil, 'Answer').getByTestId('reaction').getAttribute('aria-pressed')).toBe(
      'true',
    );
    expect(await message(hal, 'Answer').getByTestId('reaction').getAttribute('aria-pressed')).toBe(
      'false',
    );
    await message(gil, 'Answer').getByTestId('reaction').click();
    await message(hal, 'Answer').getByTestId('reaction').waitFor({ state: 'detached' });

    // Edit: only the sender is offered it; the text changes for both with "edited".
    expect(await (await menuOf(hal, 'Original text')).getByTestId('edit').count()).toBe(0);
    await hal.page.keyboard.press('Escape');
    await (await menuOf(gil, 'Original text')).getByTestId('edit').click();
    await gil.testId('edit-preview').waitFor();
    expect(await gil.testId('composer').inputValue()).toBe('Original text');
    await gil.testId('composer').fill('Edited text');
    await gil.testId('composer').press('Enter');
    for (const chat of [gil, hal]) {
      await message(chat, 'Edited text').getByTestId('edited').waitFor();
    }
    expect(await hal.messages().allTextContents()).toEqual(['Edited text', 'Answer']);

    // The menu by keyboard: focus ⋯, Enter opens it at its first item, Escape closes it.
    const button = message(gil, 'Answer').getByTestId('message-menu-button');
    await button.focus();
    await gil.page.keyboard.press('Enter');
    await message(gil, 'Answer').getByTestId('message-menu').waitFor();
    expect(await gil.page.evaluate("document.activeElement?.getAttribute('role')")).toBe(
      'menuitem',
    );
    expect(await seriousA11yViolations(gil.page)).toEqual([]);
    await gil.page.keyboard.press('Escape');
    await message(gil, 'Answer').getByTestId('message-menu').waitFor({ state: 'detached' });

    // A long press (touch) opens the menu too.
    await message(hal, 'Answer')
      .locator('.bubble')
      .dispatchEvent('pointerdown', { pointerType: 'touch', isPrimary: true });
    await message(hal, 'Answer').getByTestId('message-menu').waitFor();
    await hal.page.keyboard.press('Escape');
    await message(hal, 'Answer').getByTestId('message-menu').waitFor({ state: 'detached' });

    // Recall (opened by a right click): a placeholder for both, and the reply's quote follows.
    await message(gil, 'Edited text').locator('.bubble').click({ button: 'right' });
    await message(gil, 'Edited text').getByTestId('recall').click();
    for (const chat of [gil, hal]) {
      await chat.testId('message').filter({ hasText: 'Message recalled' }).first().waitFor();
      await message(chat, 'Answer')
        .getByTestId('reply-quote')
        .filter({ hasText: 'Message recalled' })
        .waitFor();
    }
    expect(await hal.messages().allTextContents()).not.toContain('Edited text');

    // Delete for me: gone from Hal's view only.
    await (await menuOf(hal, 'Answer')).getByTestId('delete-for-me').click();
    await message(hal, 'Answer').waitFor({ state: 'detached' });
    expect(await message(gil, 'Answer').count()).toBe(1);

    // Pin and mute from the conversation menu: the row is flagged and listed first.
    await hal.chatWith(gil); // (re)opens; a second conversation comes next
    const ivo = await person('Ivo');
    await ivo.requestFriend(hal);
    await hal.acceptFriend(ivo);
    await ivo.chatWith(hal);
    await ivo.send('Newer message');
    await hal.tab('Chats');
    await waitForTexts(
      hal.testId('conversation'),
      (rows) => rows[0]?.includes('Ivo') === true,
      'Ivo first (newest)',
    );
    // A second tab of Hal's is a second device: it follows by push.
    const halTab = new ChatPage(await hal.page.context().newPage(), hal.phone, hal.nickname);
    await halTab.page.goto(suite.t.url);
    await halTab.tab('Chats');
    const gilRowElsewhere = halTab.page.locator('[data-testid=conversation][data-title="Gil"]');
    await gilRowElsewhere.waitFor();
    await hal.page.bringToFront();
    await hal.openConversation('Gil');
    await hal.testId('conversation-menu-button').click();
    await hal.testId('pin-toggle').click();
    await hal.testId('conversation-menu-button').click();
    await hal.testId('mute-toggle').click();
    const gilRow = hal.page.locator('[data-testid=conversation][data-title="Gil"]');
    await gilRow.getByTestId('pinned').waitFor();
    await gilRow.getByTestId('muted').waitFor();
    await waitForTexts(
      hal.testId('conversation'),
      (rows) => rows[0]?.includes('Gil') === true,
      'the pinned chat first',
    );
    await gilRowElsewhere.getByTestId('pinned').waitFor();
    await gilRowElsewhere.getByTestId('muted').waitFor();
    await halTab.page.close();
    // Kept on the server: a reload shows the same.
    await hal.page.reload();
    await gilRow.getByTestId('pinned').waitFor();
    await gilRow.getByTestId('muted').waitFor();
    await hal.testId('conversation-menu-button').click();
    await hal.testId('pin-toggle').filter({ hasText: 'Unpin' }).waitFor();

    // Clear history for me (two steps): Hal's view empties, Gil keeps his.
    await hal.testId('clear-history').click();
    await hal.testId('clear-history').filter({ hasText: 'Click again' }).click();
    await hal.page.getByRole('alert').filter({ hasText: 'History cleared' }).waitFor();
    await waitForTexts(hal.messages(), (shown) => shown.length === 0, 'an empty chat');
    await hal.page.reload();
    await hal.testId('chat-title').filter({ hasText: 'Gil' }).waitFor();
    await hal.testId('empty-chat').waitFor();
    expect(await gil.messages().count()).toBeGreaterThan(0);
  });

  it('@ autocomplete in a group, the mention badge, and group typing', async () => {
    const ivy = await person('Ivy');
    const jon = await person('Jon');
    const kim = await person('Kim');
    await ivy.tab('Groups');
    await ivy.testId('group-name').fill('Book club');
    await ivy.testId('create-group').click();
    const group = ivy.testId('group').filter({ hasText: 'Book club' });
    await group.waitFor();
    const groupId = (await group.getAttribute('data-id'))!;
    for (const member of [jon, kim]) {
      await member.tab('Groups');
      await member.testId('join-group-id').fill(groupId);
      await member.testId('join-group').click();
      await member.page.getByRole('alert').filter({ hasText: 'Joined the group' }).waitFor();
    }
    await ivy.testId('group').filter({ hasText: 'Book club' }).click();
    await ivy.send('Welcome!');
    await jon.testId('group').filter({ hasText: 'Book club' }).click();
    await jon.waitForMessages(['Welcome!']);
    await kim.tab('Chats');
    await kim.testId('conversation').filter({ hasText: 'Book club' }).waitFor();

    // Jon types "@K": Kim is suggested; Enter picks her.
    await jon.testId('composer').click();
    await jon.page.keyboard.type('Hi @K');
    await jon.testId('mention-option').filter({ hasText: '@Kim' }).waitFor();
    expect(await jon.testId('mention-option').allTextContents()).toEqual(['@Kim']);
    await ivy.testId('typing').filter({ hasText: 'Jon is typing…' }).waitFor();
    await jon.page.keyboard.press('Enter');
    expect(await jon.testId('composer').inputValue()).toBe('Hi @Kim ');
    await jon.page.keyboard.type('what are we reading?');
    await jon.page.keyboard.press('Enter');
    await jon.waitForMessages(['Welcome!', 'Hi @Kim what are we reading?']);

    // Kim is mentioned: the badge shows until she reads it; Ivy is not.
    const kimRow = kim.page.locator('[data-testid=conversation][data-title="Book club"]');
    await kimRow.getByTestId('mention').waitFor();
    await ivy.tab('Chats');
    const ivyRow = ivy.page.locator('[data-testid=conversation][data-title="Book club"]');
    expect(await ivyRow.getByTestId('mention').count()).toBe(0);
    await kim.openConversation('Book club');
    await kimRow.getByTestId('mention').waitFor({ state: 'detached' });

    // The owner may recall a member's message; a member may not recall the owner's.
    expect(await (await menuOf(jon, 'Welcome!')).getByTestId('recall').count()).toBe(0);
    await jon.page.keyboard.press('Escape');
    await ivy.waitForMessages(['Hi @Kim what are we reading?']);
    await (await menuOf(ivy, 'Hi @Kim')).getByTestId('recall').click();
    await kim.testId('message').filter({ hasText: 'Message recalled' }).waitFor();
  });
});
