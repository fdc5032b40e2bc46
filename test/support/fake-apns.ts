import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import {
  constants,
  createSecureServer,
  type IncomingHttpHeaders,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { loopbackCertificate } from './loopback-certificate.js';

/** An APNs auth key as Apple hands it out (the .p8 PEM) with its ids, and its public half. */
export interface FakeApnsKey {
  /** The .p8 file's content. */
  p8: string;
  keyId: string;
  teamId: string;
  publicKey: KeyObject;
}

export function fakeApnsKey(keyId = 'ABC123DEFG', teamId = 'DEF123GHIJ'): FakeApnsKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const p8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { p8, keyId, teamId, publicKey };
}

/** One request as the fake saw it. */
export interface ApnsReceived {
  /** The device token from the path. */
  token: string;
  headers: IncomingHttpHeaders;
  /** The provider token (JWT) it carried. */
  jwt: string;
  payload?: Record<string, unknown>;
  /** Why the fake refused it before the scripted answer, as APNs' reason. */
  problem?: string;
  /** Which connection (1-based) it came on. */
  connection: number;
}

export type ApnsAnswer =
  | { status: number; reason?: string; headers?: Record<string, string> }
  /** Never answer (the client's timeout is under test). */
  | 'hang'
  /** Reset the stream as REFUSED_STREAM, unprocessed, and keep the connection open. */
  | 'refuse';

export interface FakeApns {
  /** `https://127.0.0.1:port`: the `endpoint` to configure. */
  url: string;
  /** The certificate, for clients to trust. */
  ca: string;
  received: ApnsReceived[];
  /** Connections (HTTP/2 sessions) opened so far. */
  connections(): number;
  /** Scripts the answer to a valid request, by device token and call number (1-based). */
  setAnswer(fn: (token: string, call: number) => ApnsAnswer): void;
  /** Provider tokens issued before this time (seconds) are answered 403 ExpiredProviderToken. */
  expireTokensIssuedBefore(iatSec: number): void;
  /** After this many answers on one connection, send GOAWAY and close it (as APNs may). */
  goAwayAfter(answers: number): void;
  close(): Promise<void>;
}

/**
 * APNs on loopback over HTTP/2 with TLS (a self-signed certificate made in the
 * test). Each `POST /3/device/<hex token>` must carry `authorization: bearer
 * <ES256 JWT>` verifying against the key's public half, with `kid` the key id, `iss`
 * the team id and an `iat` less than an hour old (else 403 InvalidProviderToken /
 * ExpiredProviderToken), `apns-topic` the app's bundle id, `apns-push-type: alert`,
 * `apns-priority` 5 or 10, a numeric `apns-expiration`, an `apns-collapse-id` of at
 * most 64 bytes and a JSON body with `aps` of at most 4 KB (else 400 with APNs'
 * reason). A valid request gets the scripted answer (200 with an `apns-id` by
 * default).
 */
export async function startFakeApns(options: {
  key: FakeApnsKey;
  topic: string;
  /** The fake's clock (ms), shared with the sender under test to move time. */
  now?: () => number;
}): Promise<FakeApns> {
  const now = options.now ?? Date.now;
  const { key, topic } = options;
  const { key: tlsKey, cert } = await loopbackCertificate();
  const received: ApnsReceived[] = [];
  const calls = new Map<string, number>();
  const sessions = new Set<Http2Session>();
  const sessionNumber = new WeakMap<Http2Session, number>();
  const answeredOn = new WeakMap<Http2Session, number>();
  /** Streams of a connection still waiting for their answer (refused at a GOAWAY). */
  const waiting = new WeakMap<Http2Session, Map<ServerHttp2Stream, ApnsReceived>>();
  let connections = 0;
  let expiredBefore = 0;
  let goAwayAfter = Infinity;
  let answer: (token: string, call: number) => ApnsAnswer = () => ({ status: 200 });

  const refuse = async (
    token: string,
    headers: IncomingHttpHeaders,
    jwt: string,
    body: string,
  ): Promise<{ status: number; reason: string; payload?: Record<string, unknown> } | undefined> => {
    if (!/^[0-9a-f]{64,200}$/i.test(token)) return { status: 400, reason: 'BadDeviceToken' };
    if (!jwt) return { status: 403, reason: 'MissingProviderToken' };
    let iat: number;
    try {
      if (decodeProtectedHeader(jwt).kid !== key.keyId) throw new Error('kid');
      const { payload } = await jwtVerify(jwt, key.publicKey, {
        algorithms: ['ES256'],
        issuer: key.teamId,
        currentDate: new Date(now()),
      });
      if (typeof payload.iat !== 'number') throw new Error('iat');
      iat = payload.iat;
    } catch {
      return { status: 403, reason: 'InvalidProviderToken' };
    }
    if (iat < expiredBefore || iat * 1000 < now() - 3600_000) {
      return { status: 403, reason: 'ExpiredProviderToken' };
    }
    if (headers['apns-topic'] !== topic) return { status: 400, reason: 'DeviceTokenNotForTopic' };
    if (headers['apns-push-type'] !== 'alert') return { status: 400, reason: 'InvalidPushType' };
    if (!['5', '10'].includes(String(headers['apns-priority']))) {
      return { status: 400, reason: 'BadPriority' };
    }
    if (!/^\d+$/.test(String(headers['apns-expiration']))) {
      return { status: 400, reason: 'BadExpirationDate' };
    }
    const collapseId = headers['apns-collapse-id'];
    if (typeof collapseId === 'string' && Buffer.byteLength(collapseId) > 64) {
      return { status: 400, reason: 'BadCollapseId' };
    }
    if (Buffer.byteLength(body) > 4096) return { status: 413, reason: 'PayloadTooLarge' };
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { status: 400, reason: 'BadMessageId' };
    }
    if (typeof payload.aps !== 'object' || payload.aps === null) {
      return { status: 400, reason: 'PayloadEmpty', payload };
    }
    return undefined;
  };

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      void (async () => {
        const session = stream.session!;
        const path = String(headers[':path']);
        const token = /^\/3\/device\/([^/?]*)$/.exec(path)?.[1] ?? '';
        const jwt = /^bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1] ?? '';
        const body = Buffer.concat(chunks).toString('utf8');
        const record: ApnsReceived = {
          token,
          headers,
          jwt,
          connection: sessionNumber.get(session) ?? 0,
        };
        received.push(record);
        const pending = waiting.get(session) ?? new Map<ServerHttp2Stream, ApnsReceived>();
        waiting.set(session, pending);
        pending.set(stream, record);
        const refusal =
          headers[':method'] !== 'POST'
            ? { status: 405, reason: 'MethodNotAllowed' }
            : await refuse(token, headers, jwt, body);
        if (refusal?.payload) record.payload = refusal.payload;
        else if (!refusal) record.payload = JSON.parse(body) as Record<string, unknown>;
        let a: ApnsAnswer;
        if (refusal) {
          record.problem = refusal.reason;
          a = refusal;
        } else {
          const call = (calls.get(token) ?? 0) + 1;
          calls.set(token, call);
          a = answer(token, call);
        }
        if (a === 'hang' || stream.closed || stream.destroyed) return;
        pending.delete(stream);
        if (a === 'refuse') {
          record.problem = 'refused';
          stream.close(constants.NGHTTP2_REFUSED_STREAM);
          return;
        }
        const apnsId = String(headers['apns-id'] ?? randomUUID());
        stream.respond({ ':status': a.status, 'apns-id': apnsId, ...a.headers });
        stream.end(a.status === 200 ? undefined : JSON.stringify({ reason: a.reason ?? '' }));
        const answered = (answeredOn.get(session) ?? 0) + 1;
        answeredOn.set(session, answered);
        if (answered >= goAwayAfter && !session.closed) {
          // The last stream processed is this one: the others are refused, unprocessed,
          // and the client sends them again on a new connection.
          session.goaway(constants.NGHTTP2_NO_ERROR, stream.id ?? 0);
          for (const [other, otherRecord] of pending) {
            otherRecord.problem = 'refused at GOAWAY';
            other.close(constants.NGHTTP2_REFUSED_STREAM);
          }
          pending.clear();
          session.close();
        }
      })();
    });
  };

  const server = createSecureServer({ key: tlsKey, cert, allowHTTP1: false });
  server.on('session', (session) => {
    connections += 1;
    sessionNumber.set(session, connections);
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', onStream);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ca: cert,
    received,
    connections: () => connections,
    setAnswer(fn) {
      answer = fn;
      calls.clear();
    },
    expireTokensIssuedBefore(iatSec) {
      expiredBefore = iatSec;
    },
    goAwayAfter(answers) {
      goAwayAfter = answers;
    },
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
