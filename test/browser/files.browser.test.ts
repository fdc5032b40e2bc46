/**
 * Files in the web app, in a real browser (headless Debian chromium through
 * playwright-core) against a real server: a PNG attached with the attach button,
 * a PDF dropped on the conversation and a screenshot pasted into the composer go
 * from one user to the other; the receiver sees the image (thumbnail through a
 * signed link, full size in the lightbox) and downloads the PDF.
 */
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePhone } from '../support/factories.js';
import { buildWebApp, ChatPage, hasChromium, launchChromium } from '../support/browser.js';
import { makePdf, makePng } from '../support/files.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const required = Boolean(process.env.CI_REQUIRE_SERVICES);

describe.skipIf(!hasChromium && !required)('files in the web app (chromium)', () => {
  let t: TestApp;
  let webDir: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    webDir = await buildWebApp();
    t = await startTestApp({
      overrides: { web: { dir: webDir }, files: { maxBytes: 2 * 1024 * 1024 } },
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  });

  async function person(nickname: string): Promise<ChatPage> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const chat = new ChatPage(page, uniquePhone(), nickname);
    await chat.register(t.url);
    return chat;
  }

  /** Hands files to the page as a drop on the conversation or a paste into the composer. */
  async function give(
    chat: ChatPage,
    how: 'drop' | 'paste',
    file: { name: string; type: string; bytes: Buffer },
  ): Promise<void> {
    const target = chat.testId(how === 'drop' ? 'chat' : 'composer');
    await target.evaluate(
      (el, { how, name, type, base64 }) => {
        // Runs in the page (this file is compiled without the DOM library).
        const page = globalThis as any;
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const data = new page.DataTransfer();
        data.items.add(new File([bytes], name, { type }));
        const init = { bubbles: true, cancelable: true };
        const event =
          how === 'drop'
            ? new page.DragEvent('drop', { dataTransfer: data, ...init })
            : new page.ClipboardEvent('paste', { clipboardData: data, ...init });
        el.dispatchEvent(event);
      },
      { how, name: file.name, type: file.type, base64: file.bytes.toString('base64') },
    );
  }

  it('a PNG, a dropped PDF and a pasted image go from one user to the other', async () => {
    const alice = await person('Alice');
    const bob = await person('Bob');
    await alice.requestFriend(bob);
    await bob.acceptFriend(alice);
    await alice.chatWith(bob);

    // Attach button → file picker.
    const png = await makePng(640, 480);
    await alice.testId('file-input').setInputFiles({
      name: 'sunset.png',
      mimeType: 'image/png',
      buffer: png,
    });
    const sentImage = alice.page.locator('[data-testid=message][data-status=sent][data-mtype="1"]');
    await sentImage.waitFor();

    // A PDF dropped on the conversation.
    const pdf = makePdf();
    await give(alice, 'drop', { name: 'report.pdf', type: 'application/pdf', bytes: pdf });
    await alice.page
      .locator('[data-testid=message][data-status=sent][data-mtype="2"]')
      .filter({ hasText: 'report.pdf' })
      .waitFor();

    // A screenshot pasted into the composer.
    const shot = await makePng(200, 100);
    await give(alice, 'paste', { name: 'image.png', type: 'image/png', bytes: shot });
    await alice.page
      .locator('[data-testid=message][data-status=sent][data-mtype="1"]')
      .nth(1)
      .waitFor();

    // Bob: the list says what came last, the images load, the lightbox shows the original.
    await bob.tab('Chats');
    const row = bob.page.locator('[data-testid=conversation][data-title="Alice"]');
    await row.filter({ hasText: '[Image]' }).waitFor();
    await bob.openConversation('Alice');
    const thumbs = bob.testId('image-thumb');
    await thumbs.nth(1).waitFor();
    await bob.page.waitForFunction(
      () =>
        [...(globalThis as any).document.querySelectorAll('[data-testid=image-thumb]')].every(
          (img: { complete: boolean; naturalWidth: number }) =>
            img.complete && img.naturalWidth > 0,
        ),
      undefined,
      { timeout: 15_000 },
    );
    // The thumbnail (WebP, at most 320 px), not the original.
    const thumbWidth = await thumbs.first().evaluate((img) => (img as any).naturalWidth);
    expect(thumbWidth).toBe(320);
    expect(await thumbs.first().getAttribute('src')).toMatch(/\/thumb\?/);

    await bob.testId('image').first().click();
    const full = bob.testId('lightbox').locator('img');
    await full.waitFor();
    await bob.page.waitForFunction(
      () => (globalThis as any).document.querySelector('[data-testid=lightbox] img')?.complete,
    );
    expect(await full.evaluate((img) => (img as any).naturalWidth)).toBe(640);
    await bob.page.keyboard.press('Escape');
    await bob.testId('lightbox').waitFor({ state: 'detached' });

    // The PDF card downloads the same bytes.
    const card = bob.testId('file-card').filter({ hasText: 'report.pdf' });
    await card.waitFor();
    const href = await card.getByTestId('download').getAttribute('href');
    expect(href).toBeTruthy();
    const fetched = await bob.page.evaluate(async (url) => {
      const res = await fetch(url);
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        bytes: Array.from(new Uint8Array(await res.arrayBuffer())),
      };
    }, href!);
    expect(fetched.status).toBe(200);
    expect(fetched.type).toBe('application/pdf');
    expect(Buffer.from(fetched.bytes).equals(pdf)).toBe(true);
    const download = bob.page.waitForEvent('download');
    await card.getByTestId('download').click();
    expect((await download).suggestedFilename()).toBe('report.pdf');
  });

  it('an image that is not one arrives as a file; a refused upload shows as not sent', async () => {
    const carol = await person('Carol');
    const dan = await person('Dan');
    await carol.requestFriend(dan);
    await dan.acceptFriend(carol);
    await carol.chatWith(dan);
    // Named and typed as a PNG, but its bytes are markup: the server stores opaque
    // bytes, so it goes as a file (served as a download), never as an image.
    await give(carol, 'drop', {
      name: 'fake.png',
      type: 'image/png',
      bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    });
    await carol.page
      .locator('[data-testid=message][data-status=sent][data-mtype="2"]')
      .filter({ hasText: 'fake.png' })
      .waitFor();
    // Over files.maxBytes (2 MiB here): 413 from the server, shown with a retry.
    await give(carol, 'drop', {
      name: 'huge.bin',
      type: 'application/octet-stream',
      bytes: Buffer.alloc(3 * 1024 * 1024, 1),
    });
    const failed = carol.page.locator('[data-testid=message][data-status=failed]');
    await failed.waitFor();
    expect(await failed.textContent()).toContain('Not sent');
    expect(await failed.getByTestId('retry').count()).toBe(1);
    await carol.send('still here');
    await dan.openConversation('Carol');
    await dan.testId('file-card').filter({ hasText: 'fake.png' }).waitFor();
    expect(await dan.testId('image-thumb').count()).toBe(0);
  });
});
