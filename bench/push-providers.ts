/**
 * Push provider senders: notifications per second and sender CPU-µs per notification
 * for FCM HTTP v1 (`FcmSender`) and APNs (`ApnsSender`) against the loopback fakes of
 * the tests, which run in a child process (test/support/fake-fcm.ts, fake-apns.ts)
 * so this process's CPU is the senders' alone: JSON, JWT reuse, TLS, HTTP/1.1
 * keep-alive (FCM) or one HTTP/2 connection (APNs).
 *
 * Next to each, the ceiling: the same request over the same kind of connection sent
 * bare (body serialized once, credential fixed, no sender logic) — what the
 * transport alone costs. Rounds alternate so machine noise hits all alike.
 *
 *   npm run bench:push-providers   (BENCH_NOTIFICATIONS=3000 BENCH_CONCURRENCY=32 BENCH_ROUNDS=3)
 */
import { fork } from 'node:child_process';
import { connect } from 'node:http2';
import { Agent } from 'node:https';
import { SignJWT } from 'jose';
import { ApnsSender, parseApnsKey } from '../src/modules/push/apns-sender.js';
import { FcmSender, fcmMessage, parseServiceAccount } from '../src/modules/push/fcm-sender.js';
import { post } from '../src/modules/push/provider-http.js';
import type { DeviceNotification } from '../src/modules/push/push-decision.js';
import { envNumber } from './support/run.js';

const total = envNumber('BENCH_NOTIFICATIONS', 3000);
const concurrency = envNumber('BENCH_CONCURRENCY', 32);
const rounds = envNumber('BENCH_ROUNDS', 3);

interface Fakes {
  fcm: { url: string; tokenEndpoint: string; ca: string; serviceAccount: string };
  apns: { url: string; ca: string; p8: string; keyId: string; teamId: string; topic: string };
}

const child = fork(new URL('./support/provider-fakes.ts', import.meta.url).pathname, [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const fakes = await new Promise<Fakes>((resolve) =>
  child.once('message', (m) => resolve(m as Fakes)),
);

const notification = (i: number): DeviceNotification => ({
  userId: `u${i}`,
  deviceId: 'd1',
  platform: 'fcm',
  title: 'Team room',
  body: `Alice: message number ${i}, about as long as a chat line usually is`,
  badge: i % 50,
  data: {
    conversationId: 'sg_team',
    seq: String(i),
    msgId: `01JBENCH${String(i).padStart(18, '0')}`,
  },
  collapseKey: 'sg_team',
  dedupKey: `u${i}\u0000d1`,
});
const apnsToken = (i: number) => i.toString(16).padStart(64, 'a');

const common = { timeoutMs: 10_000, maxAttempts: 3, retryBaseMs: 100, maxRetryAfterMs: 5_000 };
const fcm = new FcmSender({
  serviceAccount: parseServiceAccount(fakes.fcm.serviceAccount),
  endpoint: fakes.fcm.url,
  tokenEndpoint: fakes.fcm.tokenEndpoint,
  ca: fakes.fcm.ca,
  ...common,
});
const apns = new ApnsSender({
  key: parseApnsKey(fakes.apns.p8),
  keyId: fakes.apns.keyId,
  teamId: fakes.apns.teamId,
  topic: fakes.apns.topic,
  endpoint: fakes.apns.url,
  ttlSec: 3600,
  tls: { ca: fakes.apns.ca },
  ...common,
});

/** The bare FCM request: one access token bought up front, one body sent again and again. */
async function bareFcm(): Promise<(i: number) => Promise<unknown>> {
  const sa = parseServiceAccount(fakes.fcm.serviceAccount);
  const iat = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({
    scope: 'https://www.googleapis.com/auth/firebase.messaging',
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: sa.privateKeyId! })
    .setIssuer(sa.clientEmail)
    .setAudience(fakes.fcm.tokenEndpoint)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(sa.privateKey);
  const agent = new Agent({ keepAlive: true, ca: fakes.fcm.ca });
  const answer = await post(new URL(fakes.fcm.tokenEndpoint), {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }).toString(),
    timeoutMs: 10_000,
    agent,
  });
  const bearer = (JSON.parse(answer.body) as { access_token: string }).access_token;
  const url = new URL(`${fakes.fcm.url}/v1/projects/bench-project/messages:send`);
  const body = JSON.stringify(fcmMessage('bench-token', notification(1)));
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' };
  return async () => {
    const a = await post(url, { headers, body, timeoutMs: 10_000, agent });
    if (a.status !== 200) throw new Error(`bare FCM answered ${a.status}`);
  };
}

/** The bare APNs request: one JWT, one body, the same headers, on one HTTP/2 connection. */
async function bareApns(): Promise<(i: number) => Promise<unknown>> {
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: fakes.apns.keyId })
    .setIssuer(fakes.apns.teamId)
    .setIssuedAt()
    .sign(parseApnsKey(fakes.apns.p8));
  const session = connect(fakes.apns.url, { ca: fakes.apns.ca });
  const body = JSON.stringify({ aps: { alert: { title: 't', body: 'b'.repeat(60) }, badge: 1 } });
  return (i) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${apnsToken(i)}`,
        authorization: `bearer ${jwt}`,
        'apns-topic': fakes.apns.topic,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        'apns-expiration': '0',
        'apns-collapse-id': 'sg_team',
        'content-type': 'application/json',
      });
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', () => undefined);
      stream.on('end', () =>
        status === 200 ? resolve() : reject(new Error(`bare APNs ${status}`)),
      );
      stream.on('error', reject);
      stream.end(body);
    });
}

/** `total` calls, `concurrency` at a time: wall time and this process's CPU. */
async function run(label: string, call: (i: number) => Promise<unknown>) {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const outcome = await call(i);
        if (outcome !== undefined && outcome !== 'sent')
          throw new Error(`${label}: ${JSON.stringify(outcome)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSecond: total / seconds, cpuMicros: (used.user + used.system) / total };
}

const subjects: Array<[string, (i: number) => Promise<unknown>]> = [
  ['fcm', (i) => fcm.send(`token-${i}`, notification(i))],
  ['fcm ceiling', await bareFcm()],
  ['apns', (i) => apns.send(apnsToken(i), { ...notification(i), platform: 'apns' })],
  ['apns ceiling', await bareApns()],
];
// Warm-up: connections, access token, provider token, JIT.
for (const [label, call] of subjects) {
  for (let i = 0; i < 200; i += 1)
    await call(i).catch((err: unknown) => {
      throw new Error(`${label} warm-up: ${String(err)}`);
    });
}
const results = new Map<string, Array<{ perSecond: number; cpuMicros: number }>>();
for (let round = 1; round <= rounds; round += 1) {
  for (const [label, call] of subjects) {
    const r = await run(label, call);
    results.set(label, [...(results.get(label) ?? []), r]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits: number) =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
console.log(
  `\npush providers against the loopback fakes: ${total} notifications, ${concurrency} in flight, median of ${rounds} rounds (range)\n`,
);
console.log('| sender | notifications/s | sender CPU-µs / notification |');
console.log('| --- | ---: | ---: |');
for (const [label, rs] of results) {
  const ps = rs.map((r) => r.perSecond);
  const cpu = rs.map((r) => r.cpuMicros);
  console.log(
    `| ${label} | ${median(ps).toFixed(0)} (${range(ps, 0)}) | ${median(cpu).toFixed(0)} (${range(cpu, 0)}) |`,
  );
}
console.log(
  '\nceiling: the same request sent bare over the same kind of connection (no sender logic); notifications/s is bound by the fakes, which verify every request in one other process on the same 2 cores',
);

await Promise.all([fcm.close(), apns.close()]);
child.disconnect();
process.exit(0);
