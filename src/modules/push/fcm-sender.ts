import { createPrivateKey, type KeyObject } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SignJWT } from 'jose';
import { CachedCredential } from './cached-credential.js';
import { apnsCollapseId } from './collapse-id.js';
import { post, RequestTimeout } from './provider-http.js';
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

/** Google's OAuth2 scope for sending with FCM HTTP v1. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** An access token is replaced this long before Google says it expires. */
const ACCESS_TOKEN_MARGIN_MS = 5 * 60_000;
/** The longest assertion lifetime Google accepts. */
const ASSERTION_TTL_SEC = 3600;

/** What the sender needs of the service-account JSON the Firebase console gives. */
export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  /** The key's id, sent as the assertion's `kid`. */
  privateKeyId?: string;
}

/**
 * Reads a service-account JSON (`project_id`, `client_email`, `private_key`,
 * `private_key_id`). Throws an Error saying which field is missing or wrong.
 */
export function parseServiceAccount(text: string): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not JSON (expected the service account key file from the Firebase console)');
  }
  const field = (name: string): string => {
    const value = (json as Record<string, unknown> | null)?.[name];
    if (typeof value !== 'string' || value === '') throw new Error(`"${name}" is missing`);
    return value;
  };
  const type = (json as Record<string, unknown> | null)?.type;
  if (type !== undefined && type !== 'service_account') {
    throw new Error(`"type" is ${JSON.stringify(type)}, not "service_account"`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(field('private_key'));
  } catch (err) {
    if ((err as Error).message.includes('missing')) throw err;
    throw new Error('"private_key" is not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('"private_key" is not an RSA key');
  const privateKeyId = (json as Record<string, unknown>).private_key_id;
  return {
    projectId: field('project_id'),
    clientEmail: field('client_email'),
    privateKey,
    ...(typeof privateKeyId === 'string' && privateKeyId ? { privateKeyId } : {}),
  };
}

export interface FcmOptions extends RetrySettings {
  serviceAccount: ServiceAccount;
  /** `https://fcm.googleapis.com`, or a relay; messages go to `{endpoint}/v1/projects/{id}/messages:send`. */
  endpoint: string;
  /** `https://oauth2.googleapis.com/token`: where the signed assertion buys an access token. */
  tokenEndpoint: string;
  timeoutMs: number;
  /** Certificate authorities to trust instead of the system's (a relay, the tests' fake). */
  ca?: string | string[];
  now?: () => number;
}

/**
 * FCM HTTP v1: the service account signs an RS256 assertion that Google's token
 * endpoint exchanges for an access token (JWT bearer grant), reused until shortly
 * before it expires and replaced once when FCM answers 401. The message carries
 * the notification, the data, Android's collapse key and tag, and the APNs
 * collapse id and badge (for iOS devices registered through Firebase).
 *
 * Answers: 200 sent; 404 or `UNREGISTERED`, and `INVALID_ARGUMENT` about the
 * token itself, mean the token is gone (`'gone'`: the caller deletes the device);
 * 429 and 5xx are retried after Retry-After or a backoff, bounded; anything else
 * throws a ProviderError.
 */
export class FcmSender {
  private readonly accessToken: CachedCredential;
  private readonly sendUrl: URL;
  private readonly policy: RetryPolicy;
  private readonly now: () => number;
  /** Keep-alive connections, one pool per scheme (a relay may be plain http). */
  private readonly agents: { https: HttpsAgent; http: HttpAgent };

  constructor(private readonly options: FcmOptions) {
    this.now = options.now ?? Date.now;
    this.agents = {
      https: new HttpsAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) }),
      http: new HttpAgent({ keepAlive: true }),
    };
    this.accessToken = new CachedCredential(
      () => this.requestAccessToken(),
      this.now,
      ACCESS_TOKEN_MARGIN_MS,
    );
    const project = encodeURIComponent(options.serviceAccount.projectId);
    this.sendUrl = new URL(
      `${options.endpoint.replace(/\/+$/, '')}/v1/projects/${project}/messages:send`,
    );
    this.policy = retryPolicy(options);
  }

  async send(token: string, n: DeviceNotification): Promise<SendOutcome> {
    const body = JSON.stringify(fcmMessage(token, n));
    return withRetries(this.policy, () => this.attempt(body));
  }

  /** Closes the kept-alive connections. */
  async close(): Promise<void> {
    this.agents.https.destroy();
    this.agents.http.destroy();
  }

  private async attempt(body: string): Promise<SendOutcome> {
    for (let refreshed = false; ; refreshed = true) {
      const bearer = await this.accessToken.get();
      const answer = await this.post(this.sendUrl, body, {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json; charset=utf-8',
      });
      if (answer.status === 200) return 'sent';
      // Revoked or expired early: one new access token, once per attempt.
      if (answer.status === 401 && !refreshed) {
        this.accessToken.forget(bearer);
        continue;
      }
      const error = readFcmError(answer.body);
      if (isGoneToken(answer.status, error)) return 'gone';
      throw new ProviderError(
        'fcm',
        answer.status,
        error.errorCode ?? error.status ?? '',
        isRetryableStatus(answer.status),
        retryAfterMs(answer.headers, this.now()),
      );
    }
  }

  /** The JWT bearer grant (RFC 7523) with the service account's key. */
  private async requestAccessToken(): Promise<{ value: string; expiresAt: number }> {
    const { serviceAccount, tokenEndpoint } = this.options;
    const iat = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'JWT',
        ...(serviceAccount.privateKeyId ? { kid: serviceAccount.privateKeyId } : {}),
      })
      .setIssuer(serviceAccount.clientEmail)
      .setAudience(tokenEndpoint)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_TTL_SEC)
      .sign(serviceAccount.privateKey);
    const answer = await this.post(
      new URL(tokenEndpoint),
      new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    const json = parseJson(answer.body) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (
      answer.status !== 200 ||
      typeof json.access_token !== 'string' ||
      typeof json.expires_in !== 'number'
    ) {
      const why = [json.error, json.error_description].filter((s) => typeof s === 'string');
      throw new ProviderError(
        'fcm',
        answer.status,
        `token endpoint: ${why.join(': ') || 'no access token'}`,
        isRetryableStatus(answer.status),
        retryAfterMs(answer.headers, this.now()),
      );
    }
    return { value: json.access_token, expiresAt: this.now() + json.expires_in * 1000 };
  }

  private async post(url: URL, body: string, headers: Record<string, string>) {
    try {
      return await post(url, {
        headers,
        body,
        timeoutMs: this.options.timeoutMs,
        agent: url.protocol === 'http:' ? this.agents.http : this.agents.https,
      });
    } catch (err) {
      // A timeout may have been taken by FCM: not retried here (the broker redelivers,
      // de-duplicated per device and message). A refused or reset connection was not.
      const timedOut = err instanceof RequestTimeout;
      throw new ProviderError('fcm', 0, (err as Error).message, !timedOut);
    }
  }
}

/** The v1 `messages:send` body for one device. */
export function fcmMessage(token: string, n: DeviceNotification) {
  return {
    message: {
      token,
      notification: { title: n.title, body: n.body },
      data: n.data,
      android: {
        // A chat message is shown at once, not batched by Doze.
        priority: 'HIGH',
        collapse_key: n.collapseKey,
        notification: { tag: n.collapseKey },
      },
      apns: {
        headers: { 'apns-collapse-id': apnsCollapseId(n.collapseKey) },
        payload: { aps: { badge: n.badge } },
      },
    },
  };
}

interface FcmErrorBody {
  status?: string;
  /** From the `google.firebase.fcm.v1.FcmError` detail. */
  errorCode?: string;
  /** From a `google.rpc.BadRequest` detail: the fields it names. */
  badFields: string[];
}

/** `{error: {code, message, status, details: [...]}}`, as much of it as is there. */
export function readFcmError(body: string): FcmErrorBody {
  const error = (parseJson(body) as { error?: Record<string, unknown> } | undefined)?.error;
  const out: FcmErrorBody = { badFields: [] };
  if (!error) return out;
  if (typeof error.status === 'string') out.status = error.status;
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    const d = detail as Record<string, unknown>;
    if (String(d['@type']).endsWith('google.firebase.fcm.v1.FcmError')) {
      if (typeof d.errorCode === 'string') out.errorCode = d.errorCode;
    } else if (String(d['@type']).endsWith('google.rpc.BadRequest')) {
      for (const v of Array.isArray(d.fieldViolations) ? d.fieldViolations : []) {
        const f = (v as Record<string, unknown>).field;
        if (typeof f === 'string') out.badFields.push(f);
      }
    }
  }
  return out;
}

/**
 * The token will never work again: 404 / UNREGISTERED (the app was uninstalled or
 * the token rotated), or a 400 INVALID_ARGUMENT that is about the token — FCM says
 * so with an FcmError detail and no BadRequest naming another field. A 400 naming
 * a payload field is our bug, not the device's: it throws, and the device stays.
 */
function isGoneToken(status: number, error: FcmErrorBody): boolean {
  if (status === 404 || error.errorCode === 'UNREGISTERED') return true;
  if (status !== 400 || error.errorCode !== 'INVALID_ARGUMENT') return false;
  return error.badFields.every((f) => f === 'message.token');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
