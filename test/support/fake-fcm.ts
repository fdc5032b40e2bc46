import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { loopbackCertificate } from './loopback-certificate.js';

/** A service account as the Firebase console hands it out, with its public half for the fake. */
export interface FakeServiceAccount {
  /** The JSON file's content. */
  json: string;
  projectId: string;
  clientEmail: string;
  privateKeyId: string;
  publicKey: KeyObject;
}

export function fakeServiceAccount(projectId = 'easy-chat-test'): FakeServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `firebase-adminsdk-test@${projectId}.iam.gserviceaccount.com`;
  const privateKeyId = randomBytes(20).toString('hex');
  const json = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: clientEmail,
    client_id: '100000000000000000000',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { json, projectId, clientEmail, privateKeyId, publicKey };
}

/** One `messages:send` as the fake saw it. */
export interface FcmReceived {
  projectId: string;
  bearer: string;
  /** The body's `message`, when the body was JSON. */
  message?: Record<string, unknown>;
  /** Why the fake refused it before the scripted answer (bad bearer, bad shape). */
  problem?: string;
}

/** One token request: the assertion's verified header and claims, or why it was refused. */
export interface FcmTokenRequest {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  problem?: string;
}

export type FcmAnswer =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answer (the client's timeout is under test). */
  | 'hang';

/** FCM's error body: `{error: {code, message, status, details: [FcmError]}}`. */
export function fcmError(
  status: number,
  rpcStatus: string,
  errorCode?: string,
): { status: number; body: unknown } {
  return {
    status,
    body: {
      error: {
        code: status,
        message: `fake ${rpcStatus}`,
        status: rpcStatus,
        details: errorCode
          ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]
          : [],
      },
    },
  };
}

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FakeFcm {
  /** `https://127.0.0.1:port`: the `endpoint` to configure. */
  url: string;
  /** `{url}/token`: the `tokenEndpoint` to configure (the assertion's audience). */
  tokenEndpoint: string;
  /** The certificate, for clients to trust. */
  ca: string;
  /** A keep-alive agent trusting the fake. */
  agent: Agent;
  tokenRequests: FcmTokenRequest[];
  received: FcmReceived[];
  /** Scripts the answer to a valid send, by device token and call number (1-based). */
  setAnswer(fn: (token: string, call: number) => FcmAnswer): void;
  /** Every access token issued so far stops working (401): a revocation. */
  revokeAccessTokens(): void;
  close(): Promise<void>;
}

/**
 * FCM HTTP v1 on loopback HTTPS. `POST /token` takes the JWT bearer grant: the
 * assertion must verify against the service account's public key (RS256, `kid`
 * the key id) with `iss` the client email, `aud` this endpoint, the
 * firebase.messaging scope and at most an hour of life; it answers
 * `{access_token, expires_in, token_type}`. `POST /v1/projects/{id}/messages:send`
 * checks the bearer (issued here, not expired or revoked: else 401), the project
 * id and the message's shape (unknown or mistyped fields: 400 with a BadRequest
 * detail, as FCM does), then answers as scripted (200 `{name}` by default).
 */
export async function startFakeFcm(options: {
  serviceAccount: FakeServiceAccount;
  /** The fake's clock (ms), shared with the sender under test to move time. */
  now?: () => number;
  accessTokenTtlSec?: number;
}): Promise<FakeFcm> {
  const now = options.now ?? Date.now;
  const ttlSec = options.accessTokenTtlSec ?? 3599;
  const sa = options.serviceAccount;
  const { key, cert } = await loopbackCertificate();
  const issued = new Map<string, number>(); // access token → expiry (ms)
  const tokenRequests: FcmTokenRequest[] = [];
  const received: FcmReceived[] = [];
  const calls = new Map<string, number>();
  let answer: (token: string, call: number) => FcmAnswer = () => ({ status: 200 });
  let origin = '';

  const onToken = async (body: string, req: IncomingMessage, res: ServerResponse) => {
    const record: FcmTokenRequest = {};
    tokenRequests.push(record);
    try {
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        throw new Error('not a form');
      }
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== GRANT) throw new Error(`grant_type ${form.get('grant_type')}`);
      const assertion = form.get('assertion') ?? '';
      record.header = decodeProtectedHeader(assertion);
      if (record.header.kid !== sa.privateKeyId) throw new Error('kid is not the key id');
      const { payload } = await jwtVerify(assertion, sa.publicKey, {
        algorithms: ['RS256'],
        issuer: sa.clientEmail,
        audience: `${origin}/token`,
        currentDate: new Date(now()),
      });
      record.claims = payload;
      if (!String(payload.scope).split(' ').includes(SCOPE)) throw new Error('scope');
      if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number')
        throw new Error('iat');
      if (payload.exp - payload.iat > 3600) throw new Error('assertion lives over an hour');
    } catch (err) {
      record.problem = (err as Error).message;
      json(res, 400, { error: 'invalid_grant', error_description: record.problem });
      return;
    }
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    issued.set(accessToken, now() + ttlSec * 1000);
    json(res, 200, { access_token: accessToken, expires_in: ttlSec, token_type: 'Bearer' });
  };

  const onSend = (projectId: string, body: string, req: IncomingMessage, res: ServerResponse) => {
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const record: FcmReceived = { projectId, bearer };
    received.push(record);
    const expiry = issued.get(bearer);
    if (expiry === undefined || expiry <= now()) {
      record.problem = 'bearer not valid';
      json(res, 401, fcmBody(401, 'UNAUTHENTICATED'));
      return;
    }
    if (projectId !== sa.projectId) {
      record.problem = `project ${projectId}`;
      json(res, 403, fcmBody(403, 'PERMISSION_DENIED'));
      return;
    }
    let message: Record<string, unknown>;
    try {
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        throw new Error('not JSON');
      }
      message = (JSON.parse(body) as { message: Record<string, unknown> }).message;
      record.message = message;
      const bad = messageProblem(body);
      if (bad) throw new Error(bad);
    } catch (err) {
      record.problem = (err as Error).message;
      json(res, 400, {
        error: {
          code: 400,
          message: record.problem,
          status: 'INVALID_ARGUMENT',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.BadRequest',
              fieldViolations: [{ field: 'message', description: record.problem }],
            },
          ],
        },
      });
      return;
    }
    const token = message.token as string;
    const call = (calls.get(token) ?? 0) + 1;
    calls.set(token, call);
    const a = answer(token, call);
    if (a === 'hang') return;
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
    res.end(
      JSON.stringify(
        a.body ??
          (a.status === 200 ? { name: `projects/${projectId}/messages/${received.length}` } : {}),
      ),
    );
  };

  const server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
      if (req.method === 'POST' && req.url === '/token') void onToken(body, req, res);
      else if (req.method === 'POST' && send) onSend(decodeURIComponent(send[1]!), body, req, res);
      else json(res, 404, fcmBody(404, 'NOT_FOUND'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert, keepAlive: true });
  return {
    url: origin,
    tokenEndpoint: `${origin}/token`,
    ca: cert,
    agent,
    tokenRequests,
    received,
    setAnswer(fn) {
      answer = fn;
      calls.clear();
    },
    revokeAccessTokens: () => issued.clear(),
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

function fcmBody(code: number, status: string) {
  return { error: { code, message: `fake ${status}`, status } };
}

type Shape = 'string' | 'integer' | 'strings' | { [key: string]: Shape };

/**
 * The part of the v1 Message this project sends, closed at every level as FCM's
 * proto is: an unknown name or a wrong type is refused.
 */
const MESSAGE_SHAPE: Shape = {
  message: {
    token: 'string',
    notification: { title: 'string', body: 'string' },
    data: 'strings',
    android: { priority: 'string', collapse_key: 'string', notification: { tag: 'string' } },
    apns: { headers: { 'apns-collapse-id': 'string' }, payload: { aps: { badge: 'integer' } } },
  },
};

function messageProblem(body: string): string | undefined {
  const check = (value: unknown, shape: Shape, at: string): string | undefined => {
    if (shape === 'string') return typeof value === 'string' ? undefined : `${at}: not a string`;
    if (shape === 'integer') return Number.isInteger(value) ? undefined : `${at}: not an integer`;
    if (typeof value !== 'object' || value === null) return `${at}: not an object`;
    if (shape === 'strings') {
      const bad = Object.entries(value).find(([, v]) => typeof v !== 'string');
      return bad ? `${at}.${bad[0]}: data values are strings` : undefined;
    }
    for (const [k, v] of Object.entries(value)) {
      const sub = shape[k];
      if (!sub) return `Unknown name "${k}" at '${at}'`;
      const problem = check(v, sub, `${at}.${k}`);
      if (problem) return problem;
    }
    return undefined;
  };
  const parsed = JSON.parse(body) as unknown;
  const problem = check(parsed, MESSAGE_SHAPE, '');
  if (problem) return problem;
  const message = (parsed as { message: { token?: string; android?: { priority?: string } } })
    .message;
  if (!message.token) return 'message.token is required';
  const collapseId = (message as { apns?: { headers?: Record<string, string> } }).apns?.headers?.[
    'apns-collapse-id'
  ];
  if (collapseId !== undefined && Buffer.byteLength(collapseId) > 64) {
    return 'message.apns.headers.apns-collapse-id: over 64 bytes';
  }
  const priority = message.android?.priority;
  if (priority !== undefined && priority !== 'HIGH' && priority !== 'NORMAL') {
    return `message.android.priority: ${priority}`;
  }
  return undefined;
}
