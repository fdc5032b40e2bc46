/**
 * A load-generator process: holds many WebSocket connections and runs commands sent
 * by the benchmark over IPC, so the clients never share an event loop with the server
 * or the orchestrating script. The wire protocol is a driver (drivers.ts): raw frames
 * on `ws`, the same cost for every system measured.
 *
 * Message contents carry their send time (`<kind><tag>|<epoch ms>`), so a receiver
 * knows its latency without asking anyone. Clocks: every process here reads the same
 * machine clock (performance.timeOrigin + now()).
 */
import {
  drivers,
  type ClientUser,
  type Conn,
  type Driver,
  type DriverName,
  type Target,
} from './drivers.js';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { appendFileSync } from 'node:fs';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every wait on a server is bounded: a hung handshake or answer fails instead. */
const OPEN_TIMEOUT_MS = 30_000;
const ANSWER_TIMEOUT_MS = 60_000;
/** A storm's reconnect may wait out several SYN retries (1, 3, 7, 15, 31 s …). */
const STORM_TIMEOUT_MS = 120_000;
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Connections of one system under test; a worker may hold several side by side. */
interface ConnSet {
  driver: Driver;
  url: string;
  conns: Conn[];
  /** Group messages received (from someone else): count, delay since sending, last arrival by tag. */
  received: number;
  delays: number[];
  lastArrival: Map<string, number>;
}
const sets = new Map<string, ConnSet>();

function setOf(name: string): ConnSet {
  const set = sets.get(name);
  if (!set) throw new Error(`no connection set ${name}`);
  return set;
}

function progress(data: Record<string, unknown>) {
  process.send?.({ progress: data });
}

function sentAtOf(content: string): number {
  return Number(content.slice(content.indexOf('|') + 1));
}

/**
 * BENCH_SLOW_DUMP: appends this step's round trips over 12 ms to a file, each with its
 * wall-clock send time and legs (`bench/support/stall-timeline.cjs` puts them beside a
 * server's stall-probe.cjs log). One header per step and load generator.
 */
function dumpSlow(
  file: string,
  tag: string,
  start: number,
  rate: number,
  roundTrip: number[],
  sentAfter: number[],
  legs: number[],
) {
  const lines = [`# step ${tag} start ${start.toFixed(0)} rate ${rate} n ${roundTrip.length}`];
  for (let k = 0; k < roundTrip.length; k += 1) {
    if (roundTrip[k]! <= 12) continue;
    const parts = [start + sentAfter[k]!, roundTrip[k]!, ...legs.slice(4 * k, 4 * k + 4)];
    lines.push(parts.map((x) => x.toFixed(1)).join(' '));
  }
  appendFileSync(file, `${lines.join('\n')}\n`);
}

/** The question's number in `Q<tag><n>|…` or `A<tag><n>|…`. */
function numberOf(content: string, tagLength: number): number {
  return Number(content.slice(1 + tagLength, content.indexOf('|')));
}

/** This process's GC pauses (ms) while an exchange runs: the generator's own stalls. */
const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

function listenForGroup(set: ConnSet, conn: Conn) {
  conn.onMessage = (m) => {
    if (m.from === conn.user.id || !m.content.startsWith('G')) return;
    const at = now();
    const tag = m.content.slice(0, m.content.indexOf('|'));
    set.received += 1;
    set.delays.push(at - sentAtOf(m.content));
    if ((set.lastArrival.get(tag) ?? 0) < at) set.lastArrival.set(tag, at);
  };
}

async function inBatches<T>(items: T[], concurrency: number, work: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function connect(set: ConnSet, users: ClientUser[], concurrency: number) {
  const { driver, url } = set;
  let failed = 0;
  let retried = 0;
  const errors = new Set<string>();
  const opened: Conn[] = new Array(users.length);
  let done = 0;
  const timer = setInterval(() => progress({ connected: done }), 500);
  try {
    await inBatches(
      users.map((u, i) => [u, i] as const),
      concurrency,
      async ([user, i]) => {
        // Like a real client, retry a refused or reset attempt (up to 3, 1 s apart).
        for (let attempt = 1; ; attempt += 1) {
          try {
            const conn = await within(driver.open(url, user), OPEN_TIMEOUT_MS, 'connect');
            listenForGroup(set, conn);
            opened[i] = conn;
            break;
          } catch (err) {
            if (attempt < 3) {
              retried += 1;
              await sleep(1000);
              continue;
            }
            failed += 1;
            if (errors.size < 5) errors.add(String((err as Error).message ?? err));
            break;
          }
        }
        done += 1;
      },
    );
  } finally {
    clearInterval(timer);
  }
  set.conns.push(...opened.filter(Boolean));
  return { connected: set.conns.length, failed, retried, errors: [...errors] };
}

async function join(set: ConnSet, room: string, concurrency: number) {
  const { driver, conns } = set;
  let done = 0;
  const timer = setInterval(() => progress({ joined: done }), 500);
  try {
    await inBatches(conns, concurrency, async (conn) => {
      await within(
        driver.join?.(conn, room, conn.user.id.split('@')[0]!) ?? Promise.resolve(),
        ANSWER_TIMEOUT_MS,
        'join',
      );
      done += 1;
    });
  } finally {
    clearInterval(timer);
  }
  return { joined: done };
}

/**
 * Open loop: `rate` questions per second in total, spread round-robin over the pairs.
 * The receiver of a question answers it at once; the asker measures the round trip
 * (sent → stored → delivered → answered → answer delivered).
 */
let exchanges = 0;

async function exchange(
  set: ConnSet,
  opts: {
    pairs: Array<{ a: number; b: number }>;
    rate: number;
    durationMs: number;
    /**
     * Load at the same rate before the measured `durationMs`, with no pause between them:
     * its questions are counted apart (`warmUp`), and the loop and GC figures restart
     * when it ends.
     */
    warmupMs?: number;
    drainMs: number;
    maxInFlight: number;
  },
) {
  const { driver, conns } = set;
  const warmupMs = opts.warmupMs ?? 0;
  const oneWay: number[] = [];
  const roundTrip: number[] = [];
  /** The warm-up's questions, counted apart (sentAfter: ms after the exchange's start). */
  const warm = { sent: 0, answered: 0, roundTrip: [] as number[] };
  const warmSentAfter: number[] = [];
  let sent = 0;
  let delivered = 0;
  let answered = 0;
  /** Whole exchange: the drain waits for the warm-up's answers too. */
  let answeredAll = 0;
  let errors = 0;
  const errorTexts = new Set<string>();
  const fail = (err: unknown) => {
    errors += 1;
    if (errorTexts.size < 5) errorTexts.add(String((err as Error).message ?? err));
  };
  // Questions carry this exchange's tag: answers that come late from an earlier (broken)
  // step are not counted here, nor their round trips.
  const tag = `${(exchanges += 1).toString(36)}.`;
  // Where a round trip's time goes, from the clocks of this process and the server's
  // sendTime (the same machine clock): legs[4k..4k+3] for roundTrip[k] (see Legs).
  const legs: number[] = [];
  /** For roundTrip[k]: when its question went, ms after the exchange's start. */
  const sentAfter: number[] = [];
  const heard = new Map<number, { serverQ: number; at: number }>();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  gcPauses.length = 0;
  for (const { a, b } of opts.pairs) {
    const asker = conns[a]!;
    const answerer = conns[b]!;
    asker.onMessage = (m) => {
      if (!m.content.startsWith(`A${tag}`)) return;
      const at = now();
      const sentAt = sentAtOf(m.content);
      const n = numberOf(m.content, tag.length);
      const q = heard.get(n);
      heard.delete(n);
      answeredAll += 1;
      if (sentAt < measuredStart) {
        warm.answered += 1;
        warm.roundTrip.push(at - sentAt);
        warmSentAfter.push(sentAt - start);
        return;
      }
      answered += 1;
      roundTrip.push(at - sentAt);
      sentAfter.push(sentAt - measuredStart);
      if (q && m.sendTime !== undefined)
        legs.push(q.serverQ - sentAt, q.at - q.serverQ, m.sendTime - q.at, at - m.sendTime);
      else legs.push(NaN, NaN, NaN, NaN);
    };
    answerer.onMessage = (m) => {
      if (!m.content.startsWith('Q')) return;
      // Late questions of an earlier step are answered (the asker ignores them), not counted.
      if (m.content.startsWith(`Q${tag}`)) {
        const at = now();
        const sentAt = sentAtOf(m.content);
        // The warm-up's one-way times are not reported: only its round trips are.
        if (sentAt >= measuredStart) {
          delivered += 1;
          oneWay.push(at - sentAt);
        }
        if (m.sendTime !== undefined)
          heard.set(numberOf(m.content, tag.length), { serverQ: m.sendTime, at });
      }
      driver
        .send(answerer, { kind: 'user', id: asker.user.id }, `A${m.content.slice(1)}`)
        .catch(fail);
    };
  }
  const start = now();
  const measuredStart = start + warmupMs;
  let warming = warmupMs > 0;
  let overloaded = false;
  let next = 0;
  /** Questions sent in the whole exchange (the warm-up's and the measured window's). */
  let sentAll = 0;
  const timer = setInterval(
    () => progress({ sent: sentAll, delivered, answered, errors, inFlight: sentAll - answeredAll }),
    1000,
  );
  try {
    while (now() - start < warmupMs + opts.durationMs) {
      if (warming && now() >= measuredStart) {
        // The measured window starts: the generator's loop and GC figures are its own.
        warming = false;
        warm.sent = sentAll;
        loop.reset();
        gcPauses.length = 0;
      }
      const due = Math.floor(((now() - start) / 1000) * opts.rate) - sentAll;
      for (let i = 0; i < due; i += 1) {
        if (sentAll - answeredAll > opts.maxInFlight) {
          overloaded = true;
          break;
        }
        const pair = opts.pairs[next++ % opts.pairs.length]!;
        const asker = conns[pair.a]!;
        sentAll += 1;
        driver
          .send(asker, { kind: 'user', id: conns[pair.b]!.user.id }, `Q${tag}${sentAll}|${now()}`)
          .catch(fail);
      }
      if (overloaded) break;
      await sleep(2);
    }
    if (warming) warm.sent = sentAll;
    sent = sentAll - warm.sent;
    const elapsed = Math.max(0, now() - measuredStart);
    const drainUntil = now() + opts.drainMs;
    while (answeredAll + errors < sentAll && now() < drainUntil) await sleep(20);
    if (process.env.BENCH_SLOW_DUMP)
      dumpSlow(
        process.env.BENCH_SLOW_DUMP,
        tag,
        measuredStart,
        opts.rate,
        roundTrip,
        sentAfter,
        legs,
      );
    return {
      ...(warmupMs > 0 ? { warmUp: { ...warm, sentAfter: warmSentAfter } } : {}),
      sent,
      delivered,
      answered,
      errors,
      errorTexts: [...errorTexts],
      overloaded,
      elapsedMs: elapsed,
      oneWay,
      roundTrip,
      sentAfter,
      legs,
      loop: {
        p99: loop.percentile(99) / 1e6,
        max: loop.max / 1e6,
        gcPauses: gcPauses.length,
        gcMs: gcPauses.reduce((t, d) => t + d, 0),
        gcMax: Math.max(0, ...gcPauses),
      },
    };
  } finally {
    loop.disable();
    clearInterval(timer);
    for (const { a, b } of opts.pairs) {
      listenForGroup(set, conns[a]!);
      listenForGroup(set, conns[b]!);
    }
  }
}

/** One sender, one message at a time: the next goes when the server has taken the last. */
async function sendSequence(set: ConnSet, sender: number, to: Target, count: number) {
  const conn = set.conns[sender]!;
  const sentAt: Record<string, number> = {};
  for (let i = 0; i < count; i += 1) {
    const t = now();
    sentAt[`G${i}`] = t;
    await within(set.driver.send(conn, to, `G${i}|${t}`), ANSWER_TIMEOUT_MS, 'send');
    progress({ sent: i + 1 });
  }
  return { sentAt };
}

/** Drops every socket of a set (the server sees them go); their users stay for `storm`. */
function drop(set: ConnSet) {
  for (const c of set.conns) c?.socket.terminate();
  return { dropped: set.conns.length };
}

/**
 * Reconnect storm: the sockets dropped by `drop` all reconnect at once; each
 * one, once logged in, syncs from the seqs it held (easy-chat `conversation.sync`, paged)
 * and is "in sync" when the last page is in. Times are from the storm's start.
 */
async function storm(
  set: ConnSet,
  opts: { startAt: number; sync: Array<Record<string, number>> | null },
) {
  const { driver, url } = set;
  const users = set.conns.map((c) => c.user);
  // Same order as before, so callers' indexes stay valid (a failed one leaves a hole).
  const conns: Conn[] = new Array<Conn>(users.length);
  set.conns = conns;
  await sleep(Math.max(0, opts.startAt - now()));
  const inSync: number[] = [];
  let messages = 0;
  let failed = 0;
  const errors = new Set<string>();
  const timer = setInterval(() => progress({ inSync: inSync.length, messages }), 500);
  try {
    await Promise.all(
      users.map(async (user, i) => {
        try {
          const conn = await within(driver.open(url, user), STORM_TIMEOUT_MS, 'reconnect');
          listenForGroup(set, conn);
          conns[i] = conn;
          const from = opts.sync?.[i];
          if (from) {
            const seqs = { ...from };
            for (;;) {
              const answer = await within(
                driver.request!(conn, 'conversation.sync', { conversations: seqs }),
                ANSWER_TIMEOUT_MS,
                'sync',
              );
              if (answer.frameType !== 2) throw new Error(JSON.stringify(answer.data));
              let more = false;
              for (const [id, c] of Object.entries(
                answer.data.conversations as Record<
                  string,
                  { messages: Array<{ seq: number }>; hasMore: boolean }
                >,
              )) {
                messages += c.messages.length;
                if (c.messages.length) seqs[id] = c.messages[c.messages.length - 1]!.seq;
                more ||= c.hasMore;
              }
              if (!more) break;
            }
          }
          inSync.push(now() - opts.startAt);
        } catch (err) {
          failed += 1;
          if (errors.size < 5) errors.add(String((err as Error).message ?? err));
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
  return { inSync, messages, failed, errors: [...errors] };
}

process.on('message', (message: any) => {
  const reply = (result: unknown) => process.send!({ id: message.id, result });
  const run = async () => {
    switch (message.cmd) {
      case 'connect': {
        let set = sets.get(message.set);
        if (!set) {
          set = {
            driver: drivers[message.driver as DriverName],
            url: message.url,
            conns: [],
            received: 0,
            delays: [],
            lastArrival: new Map(),
          };
          sets.set(message.set, set);
        }
        set.url = message.url;
        return connect(set, message.users, message.concurrency ?? 100);
      }
      case 'join':
        return join(setOf(message.set), message.room, message.concurrency ?? 50);
      case 'exchange':
        return exchange(setOf(message.set), message);
      case 'sendSequence':
        return sendSequence(setOf(message.set), message.sender, message.to, message.count);
      case 'arrivals': {
        const set = setOf(message.set);
        return {
          received: set.received,
          delays: message.delays ? set.delays : [],
          last: Object.fromEntries(set.lastArrival),
        };
      }
      case 'reset': {
        const set = setOf(message.set);
        set.received = 0;
        set.delays = [];
        set.lastArrival = new Map();
        return {};
      }
      case 'drop':
        return drop(setOf(message.set));
      case 'storm':
        return storm(setOf(message.set), message);
      case 'disconnect': {
        const set = sets.get(message.set);
        for (const c of set?.conns ?? []) c?.socket.terminate();
        sets.delete(message.set);
        return {};
      }
      case 'close':
        for (const set of sets.values()) for (const c of set.conns) c?.socket.terminate();
        setTimeout(() => process.exit(0), 50);
        return {};
      default:
        throw new Error(`unknown command ${message.cmd}`);
    }
  };
  run().then(reply, (err: unknown) => process.send!({ id: message.id, error: String(err) }));
});
process.on('disconnect', () => process.exit(0));
