import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import { SignJWT } from 'jose';
import { CachedCredential } from './cached-credential.js';
import { apnsCollapseId } from './collapse-id.js';
import {
  isRetryableStatus,
  ProviderError,
  retryPolicy,
  withRetries,
  type RetryPolicy,
  type RetrySettings,
} from './provider-retry.js';
import type { DeviceNotification } from './push-decision.js';
import { retryAfterMs, type SendOutcome } from './webpush-sender.js';

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';
/**
 * The provider token is reused this long. Apple refuses one older than an hour
 * (ExpiredProviderToken) and one renewed more often than every 20 minutes
 * (TooManyProviderTokenUpdates): 50 minutes sits between.
 */
const PROVIDER_TOKEN_LIFE_MS = 50 * 60_000;

/**
 * Reads an APNs auth key (the .p8 file: a PKCS#8 P-256 private key). Throws an
 * Error saying what is wrong with it.
 */
export function parseApnsKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('not a PEM private key (expected the .p8 file Apple lets you download once)');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('not a P-256 (ES256) key');
  }
  return key;
}

export interface ApnsOptions extends RetrySettings {
  /** The .p8 key, its 10-character Key ID, and the Team ID it belongs to. */
  key: KeyObject;
  keyId: string;
  teamId: string;
  /** The app's bundle id (`apns-topic`). */
  topic: string;
  /** `https://api.push.apple.com`, the sandbox, or a relay. */
  endpoint: string;
  /** Seconds APNs keeps trying an offline device (`apns-expiration`). */
  ttlSec: number;
  timeoutMs: number;
  /** TLS options of the HTTP/2 connection (tests trust their loopback APNs with `ca`). */
  tls?: SecureClientSessionOptions;
  now?: () => number;
}

interface Http2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * APNs over HTTP/2 with token authentication: one connection reused for every
 * send (opened again after a GOAWAY or a close), an ES256 provider token `{iss:
 * teamId, iat}` with `kid` the key id, reused for 50 minutes and replaced once
 * when APNs answers ExpiredProviderToken.
 *
 * Answers: 200 sent; 410 (Unregistered) and 400 BadDeviceToken mean the token is
 * gone (`'gone'`: the caller deletes the device); 429 and 5xx are retried after
 * Retry-After or a backoff, bounded, and so is a request the server refused
 * unprocessed (a stream refused at GOAWAY); anything else throws a ProviderError.
 */
export class ApnsSender {
  private readonly providerToken: CachedCredential;
  private readonly policy: RetryPolicy;
  private readonly now: () => number;
  private session?: ClientHttp2Session;
  /** Connections opened so far (the bench and tests read it). */
  connections = 0;

  constructor(private readonly options: ApnsOptions) {
    this.now = options.now ?? Date.now;
    this.providerToken = new CachedCredential(() => this.signProviderToken(), this.now, 0);
    this.policy = retryPolicy(options);
  }

  async send(token: string, n: DeviceNotification): Promise<SendOutcome> {
    const body = JSON.stringify(apnsPayload(n));
    return withRetries(this.policy, () => this.attempt(token, n, body));
  }

  /** Closes the connection; a later send opens a new one. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || session.closed) return;
    await new Promise<void>((resolve) => session.close(resolve));
  }

  private async attempt(token: string, n: DeviceNotification, body: string): Promise<SendOutcome> {
    for (let refreshed = false; ; refreshed = true) {
      const jwt = await this.providerToken.get();
      const answer = await this.post(token, n, jwt, body);
      if (answer.status === 200) return 'sent';
      const reason = readReason(answer.body);
      if (answer.status === 410 || reason === 'Unregistered') return 'gone';
      if (answer.status === 400 && reason === 'BadDeviceToken') return 'gone';
      if (answer.status === 403 && reason === 'ExpiredProviderToken' && !refreshed) {
        this.providerToken.forget(jwt);
        continue;
      }
      throw new ProviderError(
        'apns',
        answer.status,
        reason,
        isRetryableStatus(answer.status),
        retryAfterMs(answer.headers, this.now()),
      );
    }
  }

  private async signProviderToken(): Promise<{ value: string; expiresAt: number }> {
    const { key, keyId, teamId } = this.options;
    const issuedAt = this.now();
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: keyId })
      .setIssuer(teamId)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .sign(key);
    return { value, expiresAt: issuedAt + PROVIDER_TOKEN_LIFE_MS };
  }

  private post(token: string, n: DeviceNotification, jwt: string, body: string) {
    const { options } = this;
    return new Promise<Http2Answer>((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.connection();
      } catch (err) {
        reject(new ProviderError('apns', 0, (err as Error).message, true));
        return;
      }
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${encodeURIComponent(token)}`,
        authorization: `bearer ${jwt}`,
        'apns-topic': options.topic,
        'apns-push-type': 'alert',
        // 10: deliver now (a chat message); 5 would let the device batch it.
        'apns-priority': '10',
        'apns-expiration': String(Math.floor(this.now() / 1000) + options.ttlSec),
        'apns-collapse-id': apnsCollapseId(n.collapseKey),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      });
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        // The request may have reached APNs: not retried here (the broker redelivers).
        reject(new ProviderError('apns', 0, `no answer within ${options.timeoutMs} ms`, false));
      }, options.timeoutMs);
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[':status']);
        headers = h;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      stream.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const retryable = connectionFailed(err);
        // A stream refused at a GOAWAY (or lost with its connection) can reach us before
        // the session's own 'goaway' or 'close' does: drop the session now, so the retry
        // opens a new connection instead of being refused again on this one.
        if (retryable && this.session === session) this.session = undefined;
        reject(new ProviderError('apns', 0, err.message, retryable));
      });
      stream.end(body);
    });
  }

  /** The open connection, or a new one when the last was closed or told to go away. */
  private connection(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connect(this.options.endpoint, this.options.tls);
    this.connections += 1;
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    // After a GOAWAY no new stream may start here; the streams it still answers finish.
    session.on('goaway', forget);
    session.on('close', forget);
    // Errors reach the streams too (and reject their sends); this only drops the connection.
    session.on('error', forget);
    this.session = session;
    return session;
  }
}

/** The APNs payload: the alert, the badge, the conversation as thread, then the data. */
export function apnsPayload(n: DeviceNotification) {
  return {
    aps: {
      alert: { title: n.title, body: n.body },
      badge: n.badge,
      sound: 'default',
      'thread-id': n.collapseKey,
    },
    ...n.data,
  };
}

/** APNs explains a refusal as `{"reason": "BadDeviceToken"}`. */
function readReason(body: string): string {
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === 'string' ? reason : '';
  } catch {
    return '';
  }
}

/**
 * Worth sending again on a new connection: the stream was refused at a GOAWAY
 * (never processed), or the connection failed or was gone before the stream
 * started. A reset mid-request might have been processed: sent again, the
 * notification replaces itself on the device (same `apns-collapse-id`).
 */
function connectionFailed(err: NodeJS.ErrnoException): boolean {
  switch (err.code) {
    case 'ERR_HTTP2_STREAM_ERROR':
      return err.message.includes('NGHTTP2_REFUSED_STREAM');
    case 'ERR_HTTP2_STREAM_CANCEL':
      // Cancelled because the connection failed (its error is the cause), not by us.
      return err.cause !== undefined;
    // nghttp2 refusing a stream on a connection that is going away (a GOAWAY in flight).
    case 'ERR_HTTP2_ERROR':
    case 'ERR_HTTP2_GOAWAY_SESSION':
    case 'ERR_HTTP2_INVALID_SESSION':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return true;
    default:
      return false;
  }
}
