import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';

/** A browser's side of a subscription: the key pair and auth secret it keeps. */
export interface FakeBrowser {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
}

export interface ReceivedPush {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The decrypted payload (RFC 8291), or the reason it could not be decrypted. */
  payload?: unknown;
  error?: string;
  /** The VAPID JWT's verified claims, with the key it was signed with. */
  vapid?: { aud: unknown; sub: unknown; exp: unknown; k: string };
}

/**
 * A Web Push service on loopback HTTPS (self-signed, trusted through `agent`): it
 * checks the VAPID `Authorization: vapid t=<jwt>, k=<key>` header (ES256 with k, aud
 * the service's origin, exp in the future), decrypts the aes128gcm body with the
 * subscription's private key and records it. `answer` scripts the status per call.
 */
export async function startFakePushService(): Promise<{
  url: string;
  agent: Agent;
  /** The service's self-signed certificate (PEM), for a client to trust it. */
  cert: string;
  received: ReceivedPush[];
  answer: (path: string, call: number) => { status: number; headers?: Record<string, string> };
  setAnswer(
    fn: (path: string, call: number) => { status: number; headers?: Record<string, string> },
  ): void;
  browser(path: string): FakeBrowser;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-push-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  const key = readFileSync(join(dir, 'key.pem'));
  rmSync(dir, { recursive: true, force: true });

  const browsers = new Map<string, FakeBrowser>();
  const received: ReceivedPush[] = [];
  const calls = new Map<string, number>();
  let answer = (_path: string, _call: number) =>
    ({ status: 201 }) as { status: number; headers?: Record<string, string> };
  let origin = '';

  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = req.url ?? '';
        const record: ReceivedPush = { path, headers: req.headers };
        received.push(record);
        const call = (calls.get(path) ?? 0) + 1;
        calls.set(path, call);
        try {
          record.vapid = await checkVapid(String(req.headers.authorization ?? ''), origin);
          const browser = browsers.get(path);
          if (!browser) throw new Error('unknown subscription');
          if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
          record.payload = JSON.parse(decrypt(Buffer.concat(chunks), browser).toString('utf8'));
        } catch (err) {
          record.error = (err as Error).message;
          res.writeHead(400).end(record.error);
          return;
        }
        const a = answer(path, call);
        res.writeHead(a.status, a.headers ?? {}).end();
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert, keepAlive: false });
  return {
    url: origin,
    agent,
    cert: cert.toString('utf8'),
    received,
    get answer() {
      return answer;
    },
    setAnswer(fn) {
      answer = fn;
    },
    browser(path) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const b: FakeBrowser = {
        ecdh,
        auth,
        subscription: {
          endpoint: `${origin}${path}`,
          keys: {
            p256dh: ecdh.getPublicKey().toString('base64url'),
            auth: auth.toString('base64url'),
          },
        },
      };
      browsers.set(path, b);
      return b;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function checkVapid(header: string, origin: string) {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header);
  if (!m) throw new Error(`bad Authorization: ${header}`);
  const [, jwt, k] = m as unknown as [string, string, string];
  const raw = Buffer.from(k, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const { payload } = await jwtVerify(jwt, key, { algorithms: ['ES256'], audience: origin });
  if (typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now()) throw new Error('exp');
  return { aud: payload.aud, sub: payload.sub, exp: payload.exp, k };
}

/** RFC 8291 / RFC 8188: the user agent's side of aes128gcm. */
function decrypt(body: Buffer, browser: FakeBrowser): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const uaPublic = browser.ecdh.getPublicKey();
  const ecdhSecret = browser.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, browser.auth, keyInfo, 32));
  const cek = Buffer.from(
    hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16),
  );
  const nonce = Buffer.from(
    hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12),
  );
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  // One record: the content, then the delimiter 0x02, then zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end -= 1;
  if (plain[end] !== 2) throw new Error('bad padding delimiter');
  return plain.subarray(0, end);
}
