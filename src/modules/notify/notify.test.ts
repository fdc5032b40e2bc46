import { afterEach, describe, expect, it } from 'vitest';
import { fakeProvider, sleep, webhook } from '../../../test/support/fake-webhook.js';
import { smtpSink } from '../../../test/support/fake-smtp.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { waitFor } from '../../adapters/bus/bus.contract.js';
import { NOTIFY_TOPIC } from './notify.events.js';
import { fetchMetrics } from '../../../test/support/metrics.js';
import { logLines } from '../../../test/support/log-lines.js';
import { until } from '../../../test/support/wait.js';

describe('notify consumers', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function app(overrides: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
    const t = await startTestApp(overrides);
    cleanups.push(() => t.close());
    return t;
  }
  /**
   * An app whose pushes go to a fake provider's webhook, collapsed in windows of
   * `windowMs`; the webhook's timeout is 200 ms unless `timeoutMs` says otherwise.
   */
  async function pushApp(
    windowMs: number,
    answers: Parameters<typeof fakeProvider>[0] = [],
    timeoutMs?: number,
  ) {
    const provider = await fakeProvider(answers);
    cleanups.push(provider.close);
    const hook = { ...webhook(provider.url), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
    const t = await app({
      overrides: {
        notify: { push: { driver: 'webhook', webhook: hook, collapseWindowMs: windowMs } },
      },
    });
    return { provider, t };
  }

  it('sends notify.email over SMTP, once per event even when it is delivered twice', async () => {
    const smtp = await smtpSink();
    cleanups.push(smtp.close);
    const { mails } = smtp;
    const t = await app({ overrides: { notify: { email: smtp.email } } });

    const event = await t.app.events.notify.send('notify.email', {
      to: 'alice@example.test',
      subject: 'Welcome to easy-chat',
      text: 'Hello Alice',
    });
    await waitFor(() => mails.length >= 1, 'mail');
    // The broker delivers at least once: a second copy of the same event sends nothing.
    await t.app.broker.publish(NOTIFY_TOPIC, [{ event }]);
    await sleep(300);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(['alice@example.test']);
    expect(mails[0]!.raw).toContain('Subject: Welcome to easy-chat');
    expect(mails[0]!.raw).toContain('Hello Alice');
    expect(mails[0]!.raw).toContain(`Message-ID: <${event.id}@easy-chat>`);
  });

  it('retries an SMS webhook that fails, in-process then through the broker, until it succeeds', async () => {
    const provider = await fakeProvider([500, 503, 500]);
    cleanups.push(provider.close);
    const t = await app({
      overrides: { notify: { sms: { driver: 'webhook', webhook: webhook(provider.url, 2) } } },
    });
    const event = await t.app.events.notify.send('notify.sms', {
      phone: '13800000001',
      template: 'welcome',
      params: { name: 'Alice' },
    });
    await waitFor(() => provider.calls.length >= 4, 'fourth call');
    await sleep(300);
    expect(provider.calls).toHaveLength(4);
    for (const call of provider.calls) {
      expect(call.signatureOk).toBe(true);
      expect(call.delivery).toBe(event.id);
      expect(call.body).toEqual({
        channel: 'sms',
        deliveryId: event.id,
        phone: '13800000001',
        template: 'welcome',
        params: { name: 'Alice' },
      });
    }
    const metrics = await (await fetchMetrics(t.url)).text();
    expect(metrics).toMatch(
      /easychat_notifications_total\{[^}]*channel="sms"[^}]*outcome="failed"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /easychat_notifications_total\{[^}]*channel="sms"[^}]*outcome="sent"[^}]*\} 1/,
    );
  });

  it('the console driver logs mail at info and a push only at debug (no message text at info)', async () => {
    const sent = (channel: string) =>
      new RegExp(
        `easychat_notifications_total\\{[^}]*channel="${channel}"[^}]*outcome="sent"[^}]*\\} 1`,
      );
    const consoleLines = async (level: 'info' | 'debug') => {
      const lines: string[] = [];
      const t = await startTestApp({
        overrides: { log: { level }, notify: { push: { collapseWindowMs: 0 } } },
        logDestination: logLines(lines),
      });
      cleanups.push(() => t.close());
      await t.app.events.notify.send('notify.push', {
        userId: 'u1',
        title: 'Bob',
        body: 'the preview text',
      });
      await t.app.events.notify.send('notify.email', {
        to: 'a@example.com',
        subject: 'Your code',
        text: '123456',
      });
      // Both sent: the console sender has run for each.
      await until(async () => {
        const metrics = await (await fetchMetrics(t.url)).text();
        return sent('push').test(metrics) && sent('email').test(metrics);
      }, 'both sent');
      return lines
        .map((line) => JSON.parse(line) as { msg?: string; channel?: string })
        .filter((entry) => entry.msg === 'notification (console sender)')
        .map((entry) => entry.channel);
    };
    expect(await consoleLines('info')).toEqual(['email']);
    expect((await consoleLines('debug')).sort()).toEqual(['email', 'push']);
  });

  it('gives up on a webhook call after its timeout and tries again', async () => {
    const { provider, t } = await pushApp(0, ['hang']);
    await t.app.events.notify.send('notify.push', { userId: 'u1', title: 'Hi', body: 'there' });
    await waitFor(() => provider.calls.length >= 2, 'second call');
    await sleep(300);
    expect(provider.calls).toHaveLength(2);
  });

  it('collapses chat pushes per user and conversation within the window', async () => {
    const { provider, t } = await pushApp(400);
    const chat = (userId: string, conversationId: string, n: number) => ({
      type: 'notify.push' as const,
      payload: {
        userId,
        title: 'Bob',
        body: `message ${n}`,
        data: { conversationId },
        collapseKey: `chat:${conversationId}`,
      },
    });
    await t.app.events.notify.sendBatch([
      chat('u1', 'c1', 1),
      chat('u1', 'c1', 2),
      chat('u1', 'c2', 1),
      chat('u1', 'c1', 3),
      chat('u2', 'c1', 1),
      {
        type: 'notify.push',
        payload: { userId: 'u1', title: 'Friend request', body: 'from Carol' },
      },
      chat('u1', 'c1', 4),
    ]);
    await waitFor(() => provider.calls.length >= 4, 'four pushes');
    await sleep(600);
    const pushes = provider.calls.map((c) => c.body);
    expect(pushes).toHaveLength(4);
    const find = (userId: string, key?: string) =>
      pushes.find((p) => p.userId === userId && p.collapseKey === key);
    expect(find('u1', 'chat:c1')).toMatchObject({
      body: 'message 4',
      count: 4,
      data: { conversationId: 'c1', collapsedCount: '4' },
    });
    expect(find('u1', 'chat:c2')).toMatchObject({ body: 'message 1', count: 1 });
    expect(find('u2', 'chat:c1')).toMatchObject({ count: 1 });
    expect(find('u1')).toMatchObject({ title: 'Friend request', count: 1 });
  });

  it('holds one event a window: a flood into one conversation is one push, not one a 256 events', async () => {
    const { provider, t } = await pushApp(3_000);
    // More events than the consumer handles at once (256): when each event a window took
    // stayed in hand, the window closed with 256 and the rest waited for the next.
    const events = await t.app.events.notify.sendBatch(
      Array.from({ length: 600 }, (_, n) => ({
        type: 'notify.push' as const,
        payload: { userId: 'u1', title: 'Bob', body: `message ${n}`, collapseKey: 'chat:c1' },
      })),
    );
    await waitFor(() => provider.calls.length >= 1, 'the push');
    await sleep(500);
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0]!.body).toMatchObject({
      body: 'message 599',
      count: 600,
      data: { collapsedCount: '600' },
    });
    // The push is the held event's: a redelivery of it after a crash is dropped as a repeat.
    expect(provider.calls[0]!.delivery).toBe(events[599]!.id);
  });

  it('pushes the oldest window at once when more users than open windows are waiting', async () => {
    // A timeout this test is not about: 72 pushes at once on a loaded machine outlasted
    // 200 ms, and each retry was one call more at the provider (127 in one CI run).
    const { provider, t } = await pushApp(600_000, [], 10_000);
    // 200 users, a window of ten minutes each: the 72 opened first go out beyond the 128
    // windows that stay open, in the order they opened.
    await t.app.events.notify.sendBatch(
      Array.from({ length: 200 }, (_, n) => ({
        type: 'notify.push' as const,
        payload: { userId: `u${n}`, title: 'Bob', body: 'hi', collapseKey: 'chat:group' },
      })),
    );
    await waitFor(() => provider.calls.length >= 72, '72 pushes');
    await sleep(300);
    expect(provider.calls).toHaveLength(72);
    expect(new Set(provider.calls.map((c) => c.body.userId))).toEqual(
      new Set(Array.from({ length: 72 }, (_, n) => `u${n}`)),
    );
  });
});
