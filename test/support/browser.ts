import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AxeResults, RunOptions } from 'axe-core';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config/config.schema.js';
import type { DeepPartial } from '../../src/config/load-config.js';
import { uniquePhone } from './factories.js';
import { startTestApp, type TestApp } from './test-app.js';

/** Debian's chromium; `.ci/run` installs it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Builds the web app from source into a fresh directory (about a second). */
export async function buildWebApp(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'easy-chat-web-build-'));
  await build({
    configFile: resolve(import.meta.dirname, '../../web/vite.config.ts'),
    build: { outDir, emptyOutDir: true },
    logLevel: 'warn',
  });
  return outDir;
}

/**
 * Waits until the texts of the elements `locator` matches satisfy `check`,
 * re-reading the page each 50 ms (the DOM has no event for "the list now says X").
 */
export async function waitForTexts(
  locator: Locator,
  check: (texts: string[]) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let texts: string[] = [];
  for (;;) {
    texts = (await locator.allTextContents()).map((t) => t.trim());
    if (check(texts)) return texts;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(texts)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The chat app as one person uses it, in one page. */
export class ChatPage {
  constructor(
    readonly page: Page,
    readonly phone: string,
    readonly nickname: string,
  ) {}

  testId(id: string): Locator {
    return this.page.getByTestId(id);
  }

  async register(url: string): Promise<void> {
    await this.page.goto(url);
    await this.testId('register-tab').click();
    await this.page.locator('input[name=phone]').fill(this.phone);
    await this.page.locator('input[name=password]').fill('correct-horse-1');
    await this.page.locator('input[name=nickname]').fill(this.nickname);
    await this.page.getByRole('button', { name: 'Create account' }).click();
    await this.testId('me').filter({ hasText: this.nickname }).waitFor();
  }

  async tab(name: 'Chats' | 'Contacts' | 'Groups' | 'Me'): Promise<void> {
    await this.page.locator('nav.tabs button', { hasText: name }).click();
  }

  async requestFriend(other: ChatPage): Promise<void> {
    await this.tab('Contacts');
    await this.testId('user-search').fill(other.phone);
    await this.page.getByRole('button', { name: 'Search' }).click();
    await this.testId('search-result').filter({ hasText: other.nickname }).waitFor();
    await this.testId('add-friend').click();
    await this.page.getByRole('alert').filter({ hasText: 'Friend request sent' }).waitFor();
  }

  async acceptFriend(other: ChatPage): Promise<void> {
    await this.tab('Contacts');
    await this.page.getByRole('button', { name: 'Refresh' }).first().click();
    const request = this.testId('friend-request').filter({ hasText: other.nickname });
    await request.waitFor();
    await request.getByTestId('accept-friend').click();
    await this.testId('friend').filter({ hasText: other.nickname }).waitFor();
  }

  /** Opens the chat with a friend from Contacts. */
  async chatWith(other: ChatPage): Promise<void> {
    await this.tab('Contacts');
    await this.page.getByRole('button', { name: 'Refresh' }).first().click();
    await this.testId('friend').filter({ hasText: other.nickname }).click();
    await this.testId('chat-title').filter({ hasText: other.nickname }).waitFor();
  }

  async openConversation(title: string): Promise<void> {
    await this.tab('Chats');
    await this.page.locator(`[data-testid=conversation][data-title="${title}"]`).click();
    await this.testId('chat-title').filter({ hasText: title }).waitFor();
  }

  /** Types and sends a message, and waits until the server has stored it. */
  async send(text: string): Promise<void> {
    await this.testId('composer').fill(text);
    await this.testId('composer').press('Enter');
    await this.page
      .locator('[data-testid=message][data-status=sent]')
      .filter({ hasText: text })
      .waitFor();
  }

  /** The message texts shown in the open chat, in order. */
  messages(): Locator {
    return this.testId('message-content');
  }

  /** Waits until the open chat ends with `texts`, in this order, each once. */
  async waitForMessages(texts: string[]): Promise<void> {
    await waitForTexts(
      this.messages(),
      (shown) =>
        shown.slice(-texts.length).join('\n') === texts.join('\n') &&
        texts.every((t) => shown.filter((s) => s === t).length === 1),
      `${this.nickname} to see ${JSON.stringify(texts)}`,
    );
  }
}

/**
 * Runs axe-core in the page and returns its serious and critical violations, each as
 * "rule: target, target" (an empty list passes).
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const { source } = (await import('axe-core')).default;
  if (!(await page.evaluate(() => 'axe' in globalThis))) {
    await page.addScriptTag({ content: source });
  }
  const violations = await page.evaluate(async () => {
    // Runs in the page (this file is compiled without the DOM types).
    const page = globalThis as unknown as {
      axe: { run(context: unknown, options: RunOptions): Promise<AxeResults> };
      document: unknown;
    };
    const result = await page.axe.run(page.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.targets.join(', ')}`);
}

/** What a browser suite shares: the server (serving a fresh build of the web app) and chromium. */
export interface WebAppSuite {
  t: TestApp;
  browser: Browser;
  /** A new browser context (a person, or a device) with a page that has registered `nickname`. */
  person(
    nickname: string,
    options?: {
      viewport?: { width: number; height: number };
      colorScheme?: 'light' | 'dark';
      /** A script run in every page of the context before the app's own. */
      init?: string;
      /** Browser permissions granted before the app starts (e.g. notifications). */
      permissions?: string[];
    },
  ): Promise<{ chat: ChatPage; context: BrowserContext }>;
}

/**
 * Builds the web app, starts a server that serves it and launches chromium before
 * the suite's tests (in `beforeAll`), and takes them down after.
 */
export function webAppSuite(overrides: DeepPartial<Config> = {}): WebAppSuite {
  let webDir: string | undefined;
  const suite = {
    async person(nickname, options = {}) {
      const context = await suite.browser.newContext({
        viewport: options.viewport ?? { width: 1280, height: 800 },
        colorScheme: options.colorScheme ?? 'light',
        ...(options.permissions ? { permissions: options.permissions } : {}),
      });
      if (options.init) await context.addInitScript(options.init);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const chat = new ChatPage(page, uniquePhone(), nickname);
      await chat.register(suite.t.url);
      return { chat, context };
    },
  } as WebAppSuite;
  beforeAll(async () => {
    webDir = await buildWebApp();
    suite.t = await startTestApp({ overrides: { ...overrides, web: { dir: webDir } } });
    suite.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.t?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  });
  return suite;
}
