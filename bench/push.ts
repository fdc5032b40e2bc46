/**
 * Offline push end to end: messages to recipients with no live socket, each with a
 * Web Push device whose endpoint is a loopback push service (test/support/
 * fake-push-service.ts: checks VAPID, decrypts the aes128gcm payload). Reported per
 * round: notifications per second at the push service, the delay from the sender's
 * answer (the message is stored) to the push service receiving the notification at
 * p50 and p99, and the easy-chat process's CPU-µs per notification (it runs the
 * worker role: the event, the decision, the encryption, the HTTPS call).
 * Medians of the rounds, with their range.
 *
 *   npm run bench:push   BENCH_PUSH_PAIRS=50 BENCH_PUSH_MESSAGES=1000 BENCH_RATE=200
 *                        BENCH_ROUNDS=3 BENCH_STORES=sqlite,postgres
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import webpush from 'web-push';
import { startFakePushService, type ReceivedPush } from '../test/support/fake-push-service.js';
import { cpuMicros } from './support/cpu.js';
import { drivers, type Conn } from './support/drivers.js';
import { envNumber, isMain, log, main, onCleanup, sleep, writeResult } from './support/run.js';
import { startEasyChat, type Storage } from './support/systems.js';
import { percentile } from './support/worker-pool.js';

export interface PushOptions {
  pairs: number;
  messages: number;
  rate: number;
  rounds: number;
  stores: Storage[];
}
interface Round {
  perSecond: number;
  p50: number;
  p99: number;
  cpuUs: number;
  received: number;
}
export interface PushRow {
  system: string;
  rounds: Round[];
  perSecond: number;
  p50: number;
  p99: number;
  cpuUs: number;
  cpuRange: [number, number];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runPush(opts: PushOptions): Promise<PushRow[]> {
  const service = await startFakePushService();
  const dir = mkdtempSync(join(tmpdir(), 'easy-chat-bench-push-'));
  writeFileSync(join(dir, 'ca.pem'), service.cert);
  onCleanup(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // When each notification arrived (decrypted), by the message text it carries.
  const arrivals = new Map<string, number>();
  const record = service.received.push.bind(service.received);
  // The service records a request first and sets its payload once decrypted: the
  // moment the payload is set is when the notification arrived.
  service.received.push = (...items: ReceivedPush[]) => {
    for (const item of items) {
      let payload: unknown;
      Object.defineProperty(item, 'payload', {
        enumerable: true,
        configurable: true,
        get: () => payload,
        set: (value: unknown) => {
          payload = value;
          const body = (value as { body?: string } | undefined)?.body;
          if (body) arrivals.set(body, performance.now());
        },
      });
    }
    return record(...items);
  };
  const vapid = webpush.generateVAPIDKeys();
  const rows: PushRow[] = [];
  for (const storage of opts.stores) {
    const system = await startEasyChat({
      storage,
      env: {
        EC_PUSH__WEBPUSH__SUBJECT: 'mailto:bench@example.test',
        EC_PUSH__WEBPUSH__PUBLIC_KEY: vapid.publicKey,
        EC_PUSH__WEBPUSH__PRIVATE_KEY: vapid.privateKey,
        EC_PUSH__WEBPUSH__CA_FILE: join(dir, 'ca.pem'),
      },
    });
    try {
      const users = await system.makeUsers(opts.pairs * 2);
      const pairs = Array.from(
        { length: opts.pairs },
        (_, i) => [users[2 * i]!, users[2 * i + 1]!] as const,
      );
      await system.pair(pairs.map(([a, b]) => [a, b]));
      // Recipients register a browser and never connect: every message is for a device.
      for (const [, to] of pairs) {
        const browser = service.browser(`/send/${storage}-${to.id}`);
        const res = await fetch(`${system.urls[0]}/v1/push/devices`, {
          method: 'POST',
          headers: { authorization: `Bearer ${to.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            deviceId: 'bench',
            platform: 'webpush',
            subscription: browser.subscription,
          }),
        });
        if (!res.ok) throw new Error(`device registration: ${res.status} ${await res.text()}`);
      }
      const driver = drivers['easy-chat'];
      const senders: Conn[] = await Promise.all(
        pairs.map(([from]) => driver.open(system.urls[0]!, from)),
      );
      const row: PushRow = {
        system: system.label,
        rounds: [],
        perSecond: 0,
        p50: 0,
        p99: 0,
        cpuUs: 0,
        cpuRange: [0, 0],
      };
      for (let round = 1; round <= opts.rounds; round += 1) {
        const stored = new Map<string, number>();
        const cpuBefore = cpuMicros(system.pids());
        const tickMs = 1000 / opts.rate;
        const start = performance.now();
        const sends: Array<Promise<void>> = [];
        for (let n = 0; n < opts.messages; n += 1) {
          const wait = start + n * tickMs - performance.now();
          if (wait > 1) await sleep(wait);
          const k = n % opts.pairs;
          const text = `push-${storage}-${round}-${n}`;
          sends.push(
            driver.send(senders[k]!, { kind: 'user', id: pairs[k]![1].id }, text).then(() => {
              stored.set(text, performance.now());
            }),
          );
        }
        await Promise.all(sends);
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && [...stored.keys()].some((t) => !arrivals.has(t)))
          await sleep(50);
        const cpuUs = cpuMicros(system.pids()) - cpuBefore;
        const delays = [...stored]
          .filter(([t]) => arrivals.has(t))
          .map(([t, at]) => arrivals.get(t)! - at);
        const times = [...stored.keys()]
          .filter((t) => arrivals.has(t))
          .map((t) => arrivals.get(t)!);
        const r: Round = {
          received: delays.length,
          perSecond: delays.length / ((Math.max(...times) - start) / 1000),
          p50: percentile(delays, 50),
          p99: percentile(delays, 99),
          cpuUs: cpuUs / Math.max(1, delays.length),
        };
        row.rounds.push(r);
        log(
          `  round ${round}/${opts.rounds} ${system.label.padEnd(22)} ${r.received}/${opts.messages} notifications, ${r.perSecond.toFixed(0)}/s, store → push service p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, ${r.cpuUs.toFixed(0)} CPU-µs per notification`,
        );
        await sleep(1000);
      }
      for (const s of senders) s.socket.terminate();
      const cpu = row.rounds.map((r) => r.cpuUs);
      Object.assign(row, {
        perSecond: median(row.rounds.map((r) => r.perSecond)),
        p50: median(row.rounds.map((r) => r.p50)),
        p99: median(row.rounds.map((r) => r.p99)),
        cpuUs: median(cpu),
        cpuRange: [Math.min(...cpu), Math.max(...cpu)],
      });
      rows.push(row);
    } finally {
      await system.stop();
    }
  }
  return rows;
}

if (isMain(import.meta))
  main(async () => {
    const options: PushOptions = {
      pairs: envNumber('BENCH_PUSH_PAIRS', 50),
      messages: envNumber('BENCH_PUSH_MESSAGES', 1000),
      rate: envNumber('BENCH_RATE', 200),
      rounds: envNumber('BENCH_ROUNDS', 3),
      stores: (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',') as Storage[],
    };
    const rows = await runPush(options);
    writeResult('push', { options, rows });
    log('');
    log(
      '| system | notifications/s | store → push service p50 / p99 ms | server CPU-µs per notification (range) |',
    );
    log('| --- | ---: | ---: | ---: |');
    for (const r of rows)
      log(
        `| ${r.system} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} | ${r.cpuUs.toFixed(0)} (${r.cpuRange[0].toFixed(0)}–${r.cpuRange[1].toFixed(0)}) |`,
      );
  });
