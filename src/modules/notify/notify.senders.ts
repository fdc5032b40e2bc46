import { createHmac } from 'node:crypto';
import type * as Nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { loadWhenUsed } from '../../shared/load-when-used.js';
import type { Logger } from '../../shared/logger.js';
import type { NotifyEventMap } from './notify.events.js';

export type EmailMessage = NotifyEventMap['notify.email'];
export type SmsMessage = NotifyEventMap['notify.sms'];
/** A push after collapsing: `count` requests became this one. */
export type PushMessage = NotifyEventMap['notify.push'] & { count: number };

/** Delivers one notification; rejects when it was not delivered (the consumer retries). */
export interface Sender<T> {
  send(message: T, deliveryId: string): Promise<void>;
  close?(): Promise<void>;
  /** True while whatever it is sent leaves no trace (a console sender below the log level). */
  writesNothing?(): boolean;
}

/**
 * Development sender: writes the notification to the log instead. `level` is the log
 * level of its lines: pushes log at debug, since with the default settings every message
 * to an offline recipient without a device is one (a line each, with its preview text,
 * in an operator's log at info); mail and SMS at info, where a developer reads the codes.
 */
export class ConsoleSender<T> implements Sender<T> {
  constructor(
    private readonly channel: string,
    private readonly logger: Logger,
    private readonly level: 'info' | 'debug' = 'info',
  ) {}

  writesNothing(): boolean {
    return !this.logger.isLevelEnabled(this.level);
  }

  async send(message: T, deliveryId: string): Promise<void> {
    this.logger[this.level](
      { channel: this.channel, deliveryId, message },
      'notification (console sender)',
    );
  }
}

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  timeoutMs: number;
  from: string;
}

/** Mail over SMTP with nodemailer (pooled connection). */
export class SmtpEmailSender implements Sender<EmailMessage> {
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpOptions) {
    this.transport = loadWhenUsed<typeof Nodemailer>('nodemailer').createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      ...(options.user ? { auth: { user: options.user, pass: options.password } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      pool: true,
      maxConnections: 2,
    });
  }

  async send(message: EmailMessage, deliveryId: string): Promise<void> {
    await this.transport.sendMail({
      from: this.options.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      ...(message.html ? { html: message.html } : {}),
      // Lets a receiving system recognise a repeated delivery.
      messageId: `<${deliveryId}@easy-chat>`,
    });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  maxAttempts: number;
  /** First retry delay; doubles each time. */
  retryDelayMs?: number;
}

/** Headers of a webhook call: timestamp, and HMAC-SHA256 of `<timestamp>.<body>`. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-easychat-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-easychat-signature';
export const WEBHOOK_DELIVERY_HEADER = 'x-easychat-delivery';

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * SMS or push through an HTTP provider: a signed JSON POST with a timeout,
 * retried with backoff on network errors, timeouts, 429 and 5xx. Any other
 * non-2xx answer is final for this delivery. The delivery id header lets the
 * provider drop repeats.
 */
export class WebhookSender<T> implements Sender<T> {
  constructor(
    private readonly channel: string,
    private readonly options: WebhookOptions,
    private readonly logger: Logger,
  ) {}

  async send(message: T, deliveryId: string): Promise<void> {
    const body = JSON.stringify({ channel: this.channel, deliveryId, ...message });
    const { maxAttempts, retryDelayMs = 200 } = this.options;
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      try {
        const status = await this.post(body, deliveryId);
        if (status >= 200 && status < 300) return;
        lastError = new Error(`${this.channel} webhook answered ${status}`);
        if (status !== 429 && status < 500) throw lastError;
      } catch (err) {
        if (err === lastError) throw err;
        lastError = err;
      }
      this.logger.warn({ err: lastError, channel: this.channel, attempt }, 'webhook call failed');
      if (attempt < maxAttempts) await sleep(retryDelayMs * 2 ** (attempt - 1));
    }
    throw lastError;
  }

  private async post(body: string, deliveryId: string): Promise<number> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
        [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(this.options.secret, timestamp, body),
        [WEBHOOK_DELIVERY_HEADER]: deliveryId,
      },
      body,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.status;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
