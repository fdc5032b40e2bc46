/**
 * Writes BENCHMARKS.md and bench/charts/*.svg from the results the scenario scripts
 * left in bench/results/. Each scenario script calls this when it ends; it can also be
 * run alone (`npm run bench:report`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupResult, GroupRow } from './group.js';
import type { HistoryResult } from './history.js';
import type { IdleResult } from './idle.js';
import type { HalfLoad, PrivateResult } from './private-chat.js';
import { figureOf } from './support/figure.js';
import type { StormResult } from './reconnect-storm.js';
import { benchDir, isMain, resultsDir } from './support/run.js';
import type { Meta } from './support/meta.js';
import { lineChart, type Series } from './support/svg.js';

const root = join(benchDir, '..');
let chartsDir = join(benchDir, 'charts');

function load<T>(name: string): T | undefined {
  const file = join(resultsDir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

function chart(name: string, svg: string): string {
  mkdirSync(chartsDir, { recursive: true });
  writeFileSync(join(chartsDir, name), svg);
  return `![${name}](bench/charts/${name})`;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const ratio = (a: number, b: number) =>
  Number.isFinite(a / b) && b ? `${(a / b).toFixed(2)}×` : '–';
const isEasy = (s: string) => s.startsWith('easy-chat');
const base = (s: string) => s.replace(/ x\d+$/, '');

function when(meta: Meta) {
  const load = `load average ${meta.loadBefore.toFixed(1)} → ${meta.loadAfter?.toFixed(1) ?? '?'}`;
  // Runs recorded before the steal was read (5 December 2026) leave it out.
  const stolen =
    meta.coresStolen === undefined
      ? ''
      : `, ${meta.coresStolen.toFixed(2)} of them taken by the hypervisor for other guests on average (steal)`;
  return `Measured ${meta.date.slice(0, 16).replace('T', ' ')} UTC at commit ${meta.commit}, ${load} on ${meta.cores} cores${stolen}.`;
}

/** KiB per idle socket: the median of the runs with its range, when there were several. */
const kib = (x: IdleResult['rows'][number]) =>
  roundsOf(
    x.bytesPerConnection / 1024,
    x.bytesRounds?.map((b) => b / 1024),
    f1,
  );
const runsOf = (x: IdleResult['rows'][number]) =>
  (x.bytesRounds?.length ?? 1) > 1 ? `, ${x.bytesRounds!.length} runs` : ', one run';

function idleSection(r: IdleResult): string[] {
  const out = ['## 1. Idle connections', '', when(r.meta), ''];
  out.push(
    `Server memory for authenticated, idle WebSockets held by separate load-generator processes: the RSS growth of every server process of the system, 5 s after the last socket opened, divided by the sockets. Each server process first takes 50 sockets that are not counted (compiled code and heap set-up are a cost per process, not per socket). ${(r.options.rounds ?? 1) > 1 ? `At ${r.options.counts[0]} each system ran ${r.options.rounds} times on a fresh server, alternating the systems' order: the median with its range. The largest count runs once per system (four systems at that size take most of the script's time). ` : ''}Lower is better; the ratio is easy-chat ÷ peer of the medians (below 1 means easy-chat uses less).`,
    '',
  );
  const counts = [...new Set(r.rows.map((x) => x.requested))];
  const peers = [...new Set(r.rows.filter((x) => !isEasy(x.system)).map((x) => base(x.system)))];
  out.push(
    `| connections asked | easy-chat | ${peers.map((p) => `${p} | easy-chat ÷ ${p}`).join(' | ')} |`,
    `| ---: | ---: | ${peers.map(() => '---: | ---:').join(' | ')} |`,
  );
  for (const c of counts) {
    const rows = r.rows.filter((x) => x.requested === c);
    const easy = rows.find((x) => isEasy(x.system));
    const cell = (x?: (typeof rows)[number]) =>
      x
        ? `${kib(x)} KiB (${x.connections}${x.processes > 1 ? ` on ${x.processes} processes` : ''}${runsOf(x)})`
        : '–';
    out.push(
      `| ${c} | ${cell(easy)} | ${peers
        .map((p) => {
          const peer = rows.find((x) => base(x.system) === p);
          return `${cell(peer)} | ${easy && peer ? ratio(easy.bytesPerConnection, peer.bytesPerConnection) : '–'}`;
        })
        .join(' | ')} |`,
    );
  }
  out.push('', 'Connection rate while opening them (connections/s, noisy):', '');
  out.push(
    '| system | connections | processes | connections/s | total RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const x of r.rows)
    out.push(
      `| ${x.system} | ${x.connections} | ${x.processes} | ${f0(x.connectPerSecond)} | ${f0(x.totalRssMiB)} |`,
    );
  if (r.skipped.length) out.push('', `Skipped: ${r.skipped.join('; ')}.`);
  return out;
}

/** "620 (580–660)": a median over rounds with its range. */
const spread = (x: { median: number; min: number; max: number }, f = f0) =>
  `${f(x.median)} (${f(x.min)}–${f(x.max)})`;

/** A median with its range, or the one value of a file that kept one round. */
const spreadRounds = (x: { median: number; min: number; max: number; rounds: number[] }, f = f0) =>
  x.rounds.length > 1 ? spread(x, f) : f(x.median);

/** "0.96× (0.93–0.99)": a ratio measured round by round, median with its range. */
const ratioSpread = (x: { median: number; min: number; max: number }) =>
  Number.isFinite(x.median)
    ? `${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${x.max.toFixed(2)})`
    : '–';

/** Round k of one series ÷ round k of another (alternating rounds share the machine's load). */
function roundRatios(a: number[] | undefined, b: number[] | undefined) {
  if (!a?.length || !b?.length || a.length !== b.length) return undefined;
  return figureOf(a.map((x, k) => x / b[k]!));
}

/** A median over rounds with its range, or the bare figure of a file that kept no rounds. */
const roundsOf = (median: number, rounds: number[] | undefined, f = f0) =>
  rounds && rounds.length > 1 ? spread(figureOf(rounds), f) : f(median);

/** The ceiling a system's CPU compares with: PostgreSQL's for PostgreSQL, else SQLite's. */
function ceilingOf(r: PrivateResult, system: string) {
  const ceilings = r.rows.filter((x) => x.system.startsWith('ceiling'));
  const onPostgres = ceilings.find((x) => x.system.includes('PostgreSQL'));
  return (
    (system.includes('PostgreSQL') && onPostgres) ||
    ceilings.find((x) => !x.system.includes('PostgreSQL'))
  );
}

/** The headline table: capacity, CPU per message and the tail at half capacity. */
function privateHeadline(r: PrivateResult): string[] {
  const o = r.options;
  const ej = r.rows.find((x) => x.system === 'ejabberd');
  const out = [
    `| system | capacity, questions/s | messages/s stored and delivered | server CPU-µs per message at ${o.cpuRate} questions/s (Node + database) | CPU × ceiling | p99 round trip at ${o.cpuRate} questions/s, ms | round trip at half capacity: questions/s, p99 ms | p50 ms | cold start: p99 of the warm-up before each round, ms |${ej ? ' capacity × ejabberd |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${ej ? ' ---: |' : ''}`,
  ];
  for (const x of r.rows) {
    const ceiling = ceilingOf(r, x.system);
    // A CPU round that broke measured an overloaded server: flag it.
    const broke = x.steps.filter((s) => s.phase === 'cpu' && s.broken).length;
    const cpu = x.cpu
      ? `${spread(x.cpu)}${x.cpu.database.median > 0 ? ` = ${f0(x.cpu.node.median)} + ${f0(x.cpu.database.median)}` : ''}${broke ? ` (broke in ${broke} of ${x.cpu.rounds.length} rounds)` : ''}`
      : '–';
    const times = x.capacity
      ? spread({ median: x.capacity.median * 2, min: x.capacity.min * 2, max: x.capacity.max * 2 })
      : '–';
    // The tail at the CPU rounds' fixed load: the ceiling's too, in the same rounds.
    const cpuP99 = x.steps.filter((s) => s.phase === 'cpu').map((s) => s.rtt.p99);
    out.push(
      `| ${x.system} | ${x.capacity ? spread(x.capacity) : '–'} | ${times} | ${cpu} | ${x.cpu && ceiling?.cpu ? ratio(x.cpu.median, ceiling.cpu.median) : '–'} | ${cpuP99.length ? spread(figureOf(cpuP99), f1) : '–'} | ${halfLoadCell(x, 'p99')} | ${halfLoadCell(x, 'p50')} | ${halfLoadCell(x, 'cold')} |${ej ? ` ${x.capacity && ej.capacity ? ratio(x.capacity.median, ej.capacity.median) : '–'} |` : ''}`,
    );
  }
  return out;
}

/**
 * A system's round trip at half capacity; for a ceiling, at the rate of the system it ran
 * beside in the same rounds (bench/private-chat.ts), so the two read side by side, after
 * its own half capacity's when its capacity was searched (BENCH_SEARCH_CEILINGS=1).
 */
function halfLoadCell(x: PrivateResult['rows'][number], which: 'p99' | 'p50' | 'cold'): string {
  const cell = (h: HalfLoad, beside?: string) =>
    which === 'p99'
      ? `${h.rate}${beside ? ` (beside ${beside})` : ''}: ${spread(h.p99, f1)}`
      : which === 'p50'
        ? spread(h.p50, f1)
        : h.cold
          ? spread(h.cold.p99, f1)
          : '–';
  const cells = [
    ...(x.halfLoad ? [cell(x.halfLoad)] : []),
    ...(x.beside ?? []).map((b) => cell(b, b.system)),
  ];
  return cells.length > 0 ? cells.join('; ') : '–';
}

/**
 * The latency phase swept over several rates (BENCH_LATENCY_RATE=postgres=200/800/1600):
 * each system's p99 at each rate beside its ceiling's in the same rounds, and their
 * ratio: on two cores shared with the load generators the ceiling's own p99 is what the
 * machine allows at that rate, so the ratio is the figure that ranks the code.
 */
function tailByRate(r: PrivateResult): string[] {
  const swept = r.rows.filter((x) => x.sweep);
  if (swept.length === 0) return [];
  const out = [
    '',
    '### The tail by rate',
    '',
    `p99 and p50 of the round trip at each rate swept, median of ${r.options.rounds} rounds with range, the ceiling of the same store in the same rounds:`,
    '',
    '| system | questions/s | p99 ms | ceiling p99 ms | p99 × ceiling | p50 ms | ceiling p50 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const x of swept)
    for (const h of x.sweep!)
      out.push(
        `| ${x.system} | ${h.rate} | ${spread(h.p99, f1)} | ${h.ceiling ? spread(h.ceiling.p99, f1) : '–'} | ${h.ceiling ? ratio(h.p99.median, h.ceiling.p99.median) : '–'} | ${spread(h.p50, f1)} | ${h.ceiling ? spread(h.ceiling.p50, f1) : '–'} |`,
      );
  return out;
}

/** The latency phase's rounds: the measured window, and the warm-up before it. */
function latencyLine(o: PrivateResult['options']): string {
  const warm = o.p99WarmupSeconds ?? 0;
  return warm > 0
    ? `- **Latency**: ${o.p99Seconds} s per round at half the median capacity, measured after ${warm} s at the same rate with no pause between them (every system alike, ceilings too): each system idles through the others' turns, and the figure is the steady state at the rate, not the step from idle to it. The warm-up's own p99 is the round's cold start, in its own column.`
    : `- **Latency**: ${o.p99Seconds} s per round at half the median capacity, measured from the first second at the rate (no warm-up before each round: the step from idle is in the figure).`;
}

function privateSection(r: PrivateResult): string[] {
  const out = ['## 2. Private chat', '', when(r.meta), ''];
  const o = r.options;
  // Result files of the climb before the rounds had a plain number as capacity.
  if (!r.rows.some((x) => typeof x.capacity === 'object' || x.cpu?.node)) {
    out.push('_The result file predates the current `bench:private`; run it again._');
    return out;
  }
  out.push(
    `${o.pairs} pairs, open loop: the load generators offer a fixed number of questions per second; each question is a private message A → B that B answers at once. The round trip is sent → stored → delivered → answered → answer delivered (two stored messages). Every system is connected at once and each of the three phases runs ${o.rounds} rounds alternating the order of the systems; figures are medians of the rounds with their range in brackets.`,
    '',
    `- **CPU**: ${o.cpuRate} questions/s for ${o.stepSeconds} s per round; server CPU time (user + system, \`/proc/<pid>/stat\`) per message: the Node process plus, on PostgreSQL, the backends serving its own connections (the server's WAL writer, checkpointer and background writer serve every client of the shared server and are left out). The ceiling is \`bench/peers/ceiling-chat.ts\` (bare \`ws\`, prepared SQL, group commit, outbox row, idempotency index) on SQLite at \`synchronous = FULL\` and on PostgreSQL (its backend counted too), measured in the same rounds; each store is compared with its own.`,
    `- **Capacity**: in each round a bracketing search per system for the highest offered rate kept for ${o.stepSeconds} s with p99 round trip ≤ ${o.breakMs} ms, ≥ 95% answered and < 1% errors (the first round doubles from ${o.startRate}/s, later ones start at the capacity so far and step by a quarter; each stops once the lowest rate broken is within ${f0(o.resolution * 100)}% of the highest kept).`,
    latencyLine(o),
    '',
    ...privateHeadline(r),
  );
  out.push(...tailByRate(r));
  // Each store against the ones before it (PostgreSQL ÷ SQLite, MariaDB ÷ both).
  const easy = r.rows.filter((x) => isEasy(x.system) && x.capacity && x.cpu);
  for (const [i, x] of easy.entries())
    for (const y of easy.slice(0, i))
      out.push(
        '',
        `${x.system} ÷ ${y.system}: capacity ${ratio(x.capacity!.median, y.capacity!.median)}, CPU-µs per message ${ratio(x.cpu!.median, y.cpu!.median)}.`,
      );
  out.push(
    '',
    'Every step (CPU-µs per message: Node + database server):',
    '',
    '| system | phase | round | offered/s | answered/s | p50 | p95 | p99 ms | warm-up before it: p50 / p99 ms | CPU-µs/msg | errors | broke |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const x of r.rows)
    for (const s of x.steps) {
      const cpu =
        s.cpuUsPerMessage === undefined
          ? '–'
          : s.dbCpuUsPerMessage === undefined
            ? f0(s.cpuUsPerMessage)
            : `${f0(s.cpuUsPerMessage)} + ${f0(s.dbCpuUsPerMessage)}`;
      out.push(
        `| ${x.system} | ${s.phase ?? ''}${s.beside ? ` (beside ${s.beside})` : ''} | ${s.round === undefined ? '' : s.round + 1} | ${s.rate} | ${f0(s.achieved)} | ${f1(s.rtt.p50)} | ${f1(s.rtt.p95)} | ${f1(s.rtt.p99)} | ${s.warmUp ? `${f1(s.warmUp.rtt.p50)} / ${f1(s.warmUp.rtt.p99)}` : '–'} | ${cpu} | ${s.errors} | ${s.broken ? (s.overloaded ? 'yes (backlog)' : 'yes') : ''} |`,
      );
    }
  const searched = r.rows.filter((x) => x.capacity ?? x.halfLoad);
  const series: Series[] = searched.map((x) => ({
    name: `${x.system} p99`,
    points: x.steps
      .filter((s) => s.phase === 'capacity' || s.phase === 'latency')
      .map((s) => [s.rate, s.rtt.p99] as [number, number])
      .sort((a, b) => a[0] - b[0]),
  }));
  out.push(
    '',
    chart(
      'private-latency.svg',
      lineChart({
        title: 'Private chat: p99 round trip vs offered load (every round)',
        xLabel: 'questions per second offered',
        yLabel: 'p99 round trip (ms, log)',
        series,
        logY: true,
      }),
    ),
  );
  // The median round of the latency phase, per system.
  const medianRound = (x: (typeof r.rows)[number]) => {
    const steps = x.steps.filter((s) => s.phase === 'latency' && s.beside === undefined);
    return [...steps].sort((a, b) => a.rtt.p99 - b.rtt.p99)[Math.floor(steps.length / 2)];
  };
  out.push(
    '',
    chart(
      'private-distribution.svg',
      lineChart({
        title: 'Private chat: round-trip distribution at half capacity (median round)',
        xLabel: 'percentile',
        yLabel: 'round trip (ms, log)',
        logY: true,
        series: searched.map((x) => ({
          name: `${x.system} at ${x.halfLoad?.rate ?? '–'}/s`,
          points: (medianRound(x)?.rttQuantiles ?? []).map((v, q) => [q, v] as [number, number]),
        })),
      }),
    ),
  );
  if (r.skipped.length) out.push('', `Skipped: ${r.skipped.join('; ')}.`);
  return out;
}

/** A group row's figure over its rounds: median (range). */
const groupSpread = (x: GroupRow, key: 'perSecond' | 'lastMemberP50' | 'lastMemberMax') =>
  spreadRounds(figureOf(x.rounds.map((k) => k[key])));

/** Server CPU-µs per delivery over the rounds: median (range). */
const groupCpu = (x: GroupRow) =>
  spreadRounds(figureOf(x.rounds.map((k) => k.cpuUsPerDelivery)), f1);

/** A system's CPU per delivery ÷ bare ws's, round by round. */
const groupCpuVsWs = (x: GroupRow, ws: GroupRow | undefined) =>
  ws && x !== ws && x.cpuUsPerDelivery
    ? roundRatios(
        x.rounds.map((k) => k.cpuUsPerDelivery),
        ws.rounds.map((k) => k.cpuUsPerDelivery),
      )
    : undefined;

function groupSection(r: GroupResult): string[] {
  const out = ['## 3. Group fan-out', '', when(r.meta), ''];
  out.push(
    `All members online. One member sends ${r.options.messages} messages, each once the server has taken the previous one (easy-chat: stored and answered; Socket.IO: acknowledged; ejabberd and ws: the sender's own copy came back). Deliveries per second = deliveries ÷ (last arrival − first send); "last member" = time from sending a message until the last member had it (median over messages, and the worst). ${r.options.rounds} rounds per system in alternating order; medians over rounds, with their range in brackets. Server CPU per delivery is every server process's user + system time from the first send to the last arrival, read per thread to the ns (\`/proc/<pid>/task/<tid>/schedstat\`); the ceiling is the bare \`ws\` relay, and "CPU ÷ bare ws" divides each round by bare ws's round in the same pass (rounds alternate, so each pair shares the machine's load). Ratios of deliveries/s are easy-chat ÷ peer of the medians: above 1 means easy-chat delivers faster; for the last-member time below 1 means easy-chat is quicker.`,
    '',
  );
  const sizes = [...new Set(r.rows.map((x) => x.size))];
  out.push(
    '| members | system | deliveries/s | last member p50 ms | last member max ms | delivered | deliveries/s: easy-chat ÷ this | last member p50: easy-chat ÷ this | server CPU-µs per delivery | CPU ÷ bare ws, same rounds |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  // Older result files have no CPU figures.
  const cpuOf = (x: GroupRow) =>
    x.cpuUsPerDelivery
      ? `${groupCpu(x)}${
          x.dbCpuUsPerDelivery !== undefined
            ? ` + ${x.dbCpuUsPerDelivery.toFixed(1)} PostgreSQL`
            : ''
        }`
      : '–';
  for (const size of sizes) {
    const rows = r.rows.filter((x) => x.size === size);
    const easy = rows.find((x) => isEasy(x.system));
    const ws = rows.find((x) => x.system === 'bare ws');
    for (const x of rows) {
      const delivered = x.rounds.reduce((n, k) => n + k.deliveries, 0);
      const expected = x.rounds.reduce((n, k) => n + k.expected, 0);
      const vsWs = groupCpuVsWs(x, ws);
      out.push(
        `| ${size} | ${x.system} | ${groupSpread(x, 'perSecond')} | ${groupSpread(x, 'lastMemberP50')} | ${groupSpread(x, 'lastMemberMax')} | ${delivered}/${expected} | ${easy && x !== easy ? ratio(easy.perSecond, x.perSecond) : ''} | ${easy && x !== easy ? ratio(easy.lastMemberP50, x.lastMemberP50) : ''} | ${cpuOf(x)} | ${vsWs ? ratioSpread(vsWs) : ''} |`,
      );
    }
  }
  for (const size of sizes) {
    const rows = r.rows.filter((x) => x.size === size);
    const series: Series[] = rows.map((x) => {
      const sorted = [...x.rounds].sort((a, b) => a.perSecond - b.perSecond);
      const mid = sorted[Math.floor(sorted.length / 2)]!;
      return {
        name: x.system,
        points: mid.delayQuantiles.map((v, q) => [v, q] as [number, number]),
      };
    });
    out.push(
      '',
      chart(
        `group-${size}.svg`,
        lineChart({
          title: `Group of ${size}: fan-out completion (${r.options.messages} messages, median round)`,
          xLabel: 'ms since the message was sent',
          yLabel: '% of deliveries done',
          series,
        }),
      ),
    );
  }
  if (r.skipped.length) out.push('', `Skipped: ${r.skipped.join('; ')}.`);
  return out;
}

/** Of each kind, the storm whose all-in-sync time is the median of the rounds (for the chart). */
function medianStorms(x: StormResult['rows'][number]) {
  return (['reconnect only', 'reconnect + sync'] as const).flatMap((kind) => {
    const runs = x.runs
      .filter((k) => k.kind === kind)
      .sort((p, q) => p.allInSyncMs - q.allInSyncMs);
    return runs.length ? [runs[Math.floor(runs.length / 2)]!] : [];
  });
}

/** How the run set the stores up and ordered their rounds, as the section says it. */
function stormLayout(r: StormResult): string {
  const rounds = r.options.rounds ?? 1;
  const each = `each round with another ${r.options.missed} messages missed; figures are medians of the rounds with their range`;
  if (r.options.layout === 'alone')
    return `${r.rows.map((x) => x.system).join(' and ')} one at a time, each with no other system up and the load generators holding its clients only${rounds > 1 ? `: ${rounds} rounds in a row, ${each}` : ', one run each'}`;
  return `SQLite and PostgreSQL in the same run, ${rounds > 1 ? `both set up and connected first, then ${rounds} rounds alternating the stores' order, ${each}` : 'one run each'}`;
}

function stormSection(r: StormResult): string[] {
  const out = ['## 4. Reconnect storm', '', when(r.meta), ''];
  out.push(
    `${r.options.clients} clients in groups of ${r.options.groupSize} drop together; while they are away each group gets ${r.options.missed} messages; then all reconnect at the same instant and each syncs its group from the seq it held (\`conversation.sync\`, paged). "Reconnect only" is the same storm before the messages, without the sync: the cost of authentication and the socket alone. easy-chat only (the peers have no sync call to compare, and there is no ceiling script for it); ${stormLayout(r)}. Server CPU is the easy-chat process's user + system time over the storm (\`/proc/<pid>/stat\`) per client; PostgreSQL's own is not in it.`,
    '',
  );
  out.push(
    '| system | storm | all in sync ms | p50 | p99 | server CPU-µs per client | failed (all rounds) | all in sync ÷ reconnect only |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const kinds = ['reconnect only', 'reconnect + sync'] as const;
  for (const x of r.rows) {
    const only = stormFigure(x, 'reconnect only', 'allInSyncMs');
    for (const kind of kinds) {
      const all = stormFigure(x, kind, 'allInSyncMs');
      if (!all) continue;
      const cell = (key: 'p50' | 'p99' | 'cpuUsPerClient') => {
        const v = stormFigure(x, kind, key);
        return v ? spreadRounds(v) : '–';
      };
      const failed = x.runs.filter((k) => k.kind === kind).reduce((n, k) => n + k.failed, 0);
      out.push(
        `| ${x.system} | ${kind} | ${spreadRounds(all)} | ${cell('p50')} | ${cell('p99')} | ${cell('cpuUsPerClient')} | ${failed} | ${only && kind !== 'reconnect only' ? ratio(all.median, only.median) : ''} |`,
      );
    }
  }
  const [a, b] = r.rows;
  const syncA = a && stormFigure(a, 'reconnect + sync', 'allInSyncMs');
  const syncB = b && stormFigure(b, 'reconnect + sync', 'allInSyncMs');
  if (syncA && syncB)
    out.push('', `${b.system} ÷ ${a.system}, all in sync: ${ratio(syncB.median, syncA.median)}.`);
  out.push(
    '',
    'Every storm:',
    '',
    '| system | round | storm | all in sync ms | p50 | p95 | p99 | messages synced | failed | CPU-µs per client |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const x of r.rows)
    for (const k of x.runs)
      out.push(
        `| ${x.system} | ${(k.round ?? 0) + 1} | ${k.kind} | ${f0(k.allInSyncMs)} | ${f0(k.p50)} | ${f0(k.p95)} | ${f0(k.p99)} | ${k.messages} | ${k.failed} | ${k.cpuUsPerClient === undefined ? '–' : f0(k.cpuUsPerClient)} |`,
      );
  out.push(
    '',
    chart(
      'reconnect-storm.svg',
      lineChart({
        title: `Reconnect storm: ${r.options.clients} clients (median round)`,
        xLabel: 'ms since the storm began',
        yLabel: '% of clients in sync',
        series: r.rows.flatMap((x) =>
          medianStorms(x).map((k) => ({
            name: `${x.system}, ${k.kind}`,
            color: x.system.includes('SQLite') ? '#1f77b4' : '#17becf',
            dashed: k.kind === 'reconnect only',
            points: k.quantiles.map((v, q) => [v, q] as [number, number]),
          })),
        ),
      }),
    ),
  );
  return out;
}

function historySection(r: HistoryResult): string[] {
  const out = ['## 5. History reads', '', when(r.meta), ''];
  out.push(
    `autocannon, ${r.options.connections} connections, ${r.options.durationSeconds} s × ${r.options.rounds} rounds alternating between the servers (median). Each request reads a page of ${r.options.pageSize} messages from a random point of one of ${r.options.pairs} conversations of ${r.options.messages} messages. \`GET /healthz\` on the same server is the baseline (the HTTP stack alone). The ceiling (\`bench/peers/ceiling-history.ts\`) answers the same page from the same database: \`node:http\`, an HS256 check of the same token, the membership row and the page read with prepared statements, the same envelope.`,
    '',
    '| system | endpoint | req/s | p50 ms | p99 ms | errors | req/s ÷ baseline | CPU-µs/req | CPU ÷ baseline | CPU ÷ ceiling, same rounds |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const x of r.rows) {
    const b = r.rows.find((y) => y.system === x.system && y.endpoint.includes('healthz'));
    const other = b && b !== x;
    const c = x.system.startsWith('ceiling') ? undefined : historyCeilingOf(r, x);
    const vs = c && roundRatios(x.cpuRounds, c.cpuRounds);
    out.push(
      `| ${x.system} | ${x.endpoint} | ${roundsOf(x.rps, x.rpsRounds)} | ${x.p50} | ${roundsOf(x.p99, x.p99Rounds)} | ${x.errors} | ${other ? ratio(x.rps, b.rps) : ''} | ${historyCpu(x)} | ${other && x.cpuUs && b.cpuUs ? ratio(x.cpuUs, b.cpuUs) : ''} | ${vs ? ratioSpread(vs) : ''} |`,
    );
  }
  out.push(
    '',
    "Medians of the rounds with their range in brackets. CPU-µs are the server process's user + system time per request (`/proc/<pid>/stat`); the database server's own time is not in them (SQLite runs inside the process, so its share is). \"CPU ÷ ceiling\" divides each round by the ceiling's round on the same endpoint and database (rounds alternate, so each pair shares the machine's load); MariaDB has no ceiling script.",
  );
  const chat = r.rows.filter((x) => x.endpoint.includes('chatlog'));
  const systems = chat.filter((x) => !x.system.startsWith('ceiling'));
  // Each store against the ceiling script reading the same database (bench/peers/ceiling-history.ts).
  for (const x of systems) {
    const c = historyCeilingOf(r, x);
    const vs = c && roundRatios(x.cpuRounds, c.cpuRounds);
    if (c?.cpuUs && x.cpuUs)
      out.push(
        '',
        `${x.system} ÷ its ceiling: **${vs ? ratioSpread(vs) : ratio(x.cpuUs, c.cpuUs)} the CPU-µs per page** round by round (${historyCpu(x)} µs against ${historyCpu(c)} µs), ${ratio(x.rps, c.rps)} the pages/s (${roundsOf(x.rps, x.rpsRounds)} against ${roundsOf(c.rps, c.rpsRounds)}).`,
      );
    // PostgreSQL: Node plus the backends of its own connections, on both sides.
    const own = withBackends(x);
    const ownCeiling = c && withBackends(c);
    const ownVs = roundRatios(own, ownCeiling);
    if (own && ownCeiling && ownVs)
      out.push(
        '',
        `${x.system} with its own PostgreSQL backends: ${spread(figureOf(own), f0)} CPU-µs per page against the ceiling's ${spread(figureOf(ownCeiling), f0)}, ${ratioSpread(ownVs)} round by round.`,
      );
  }
  // Every storage against each one before it (PostgreSQL ÷ SQLite, MariaDB ÷ both).
  for (const [i, x] of systems.entries())
    for (const y of systems.slice(0, i))
      out.push(
        '',
        `${x.system} ÷ ${y.system}: ${ratio(x.rps, y.rps)} the pages/s${x.cpuUs && y.cpuUs ? `, ${ratio(x.cpuUs, y.cpuUs)} the CPU-µs per page` : ''}.`,
      );
  return out;
}

/** "median of 3 alternating rounds with range", or "one run" for a file of one round. */
function stormRounds(r: StormResult): string {
  const n = r.options.rounds ?? 1;
  return n > 1 ? `median of ${n} alternating rounds with range` : 'one run';
}

/** A storm figure of one kind over a store's rounds: median (range). */
function stormFigure(
  x: StormResult['rows'][number],
  kind: StormResult['rows'][number]['runs'][number]['kind'],
  key: 'allInSyncMs' | 'p50' | 'p99' | 'cpuUsPerClient',
) {
  const values = x.runs.filter((k) => k.kind === kind).flatMap((k) => k[key] ?? []);
  return values.length ? figureOf(values) : undefined;
}

/** The ceiling script that read the same database as this easy-chat row (none on MariaDB). */
function historyCeilingOf(r: HistoryResult, x: HistoryResult['rows'][number]) {
  const engine = /\((\w+)\)/.exec(x.system)?.[1];
  return r.rows.find((y) => y.endpoint === x.endpoint && y.system === `ceiling (${engine})`);
}

/** A history row's Node + own backends CPU-µs per request, round by round (PostgreSQL). */
const withBackends = (x: HistoryResult['rows'][number]) =>
  x.cpuRounds && x.dbCpuRounds?.length === x.cpuRounds.length
    ? x.cpuRounds.map((us, k) => us + x.dbCpuRounds![k]!)
    : undefined;

/** A history row's CPU-µs per request: median (range) of the rounds. */
const historyCpu = (x: HistoryResult['rows'][number]) =>
  x.cpuUs === undefined ? '–' : roundsOf(x.cpuUs, x.cpuRounds);

/** One line per scenario with easy-chat's figure and its ratios, for the top of the page. */
function summary(r: Results): string[] {
  const out: string[] = [];
  if (r.idle)
    for (const count of [...new Set(r.idle.rows.map((x) => x.requested))]) {
      const rows = r.idle.rows.filter((x) => x.requested === count);
      const easy = rows.find((x) => isEasy(x.system));
      if (!easy) continue;
      out.push(
        `- **Idle connections** (${count}${easy.processes > 1 ? ` on ${easy.processes} processes` : ''}${(easy.bytesRounds?.length ?? 1) > 1 ? `; median of ${easy.bytesRounds!.length} alternating runs with range` : '; one run'}): ${kib(easy)} KiB per socket; ${rows
          .filter((x) => x !== easy)
          .map(
            (x) =>
              `${ratio(easy.bytesPerConnection, x.bytesPerConnection)} of ${base(x.system)} (${kib(x)} KiB${x.connections !== count ? ` at ${x.connections}` : ''})`,
          )
          .join(', ')}.`,
      );
    }
  if (r.priv) {
    const priv = r.priv;
    const rows = priv.rows.filter((x) => typeof x.capacity === 'object');
    if (rows.length)
      out.push(
        `- **Private chat** (questions/s, each answered, p99 round trip ≤ ${r.priv.options.breakMs} ms; median of ${r.priv.options.rounds} rounds with range): ${rows
          .map((x) => {
            const ceiling = ceilingOf(priv, x.system);
            return `${x.system} ${spread(x.capacity!)} questions/s = ${f0(x.capacity!.median * 2)} messages/s${x.cpu ? `, ${f0(x.cpu.median)} CPU-µs per message at ${x.cpu.rate}/s${ceiling?.cpu ? ` (${ratio(x.cpu.median, ceiling.cpu.median)} the ceiling's ${f0(ceiling.cpu.median)})` : ''}` : ''}${x.halfLoad ? `, p99 round trip ${spread(x.halfLoad.p99, f1)} ms at half capacity${x.halfLoad.cold ? ` (after ${x.halfLoad.cold.seconds} s at the rate; its cold start ${spread(x.halfLoad.cold.p99, f1)})` : ''}` : ''}`;
          })
          .join('; ')}.`,
      );
  }
  if (r.group)
    for (const size of [...new Set(r.group.rows.map((x) => x.size))]) {
      const rows = r.group.rows.filter((x) => x.size === size);
      const ws = rows.find((x) => x.system === 'bare ws');
      for (const easy of rows.filter((x) => isEasy(x.system))) {
        const cpu = groupCpuVsWs(easy, ws);
        out.push(
          `- **Group of ${size}** (median of ${easy.rounds.length} alternating rounds with range): ${easy.system} ${groupSpread(easy, 'perSecond')} deliveries/s, last member after ${groupSpread(easy, 'lastMemberP50')} ms; ${groupCpu(easy)} server CPU-µs per delivery${cpu && ws ? `, ${ratioSpread(cpu)} bare ws's ${groupCpu(ws)} in the same rounds` : ''}; deliveries/s ${rows
            .filter((x) => !isEasy(x.system))
            .map((x) => `${ratio(easy.perSecond, x.perSecond)} ${x.system}'s`)
            .join(', ')}.`,
        );
      }
    }
  if (r.storm)
    out.push(
      `- **Reconnect storm** (${r.storm.options.clients} clients, ${r.storm.options.missed} missed each; ${stormRounds(r.storm)}): ${r.storm.rows
        .map((x) => {
          const sync = stormFigure(x, 'reconnect + sync', 'allInSyncMs');
          const only = stormFigure(x, 'reconnect only', 'allInSyncMs');
          const cpu = stormFigure(x, 'reconnect + sync', 'cpuUsPerClient');
          return `${x.system} all in sync after ${sync ? spreadRounds(sync) : '–'} ms${cpu ? `, ${spreadRounds(cpu)} server CPU-µs per client` : ''} (reconnect alone ${only ? spreadRounds(only) : '–'} ms)`;
        })
        .join(', ')}.`,
    );
  if (r.history) {
    const h = r.history;
    const chat = h.rows.filter((x) => x.endpoint.includes('chatlog'));
    out.push(
      `- **History reads** (pages of ${h.options.pageSize}, median of ${h.options.rounds} alternating rounds with range; CPU of the server process): ${chat
        .filter((x) => !x.system.startsWith('ceiling'))
        .map((x) => {
          const c = historyCeilingOf(h, x);
          const vs = c && roundRatios(x.cpuRounds, c.cpuRounds);
          const healthz = h.rows.find((y) => y.system === x.system && y !== x);
          const against = vs
            ? `, ${ratioSpread(vs)} the ceiling's ${historyCpu(c)} in the same rounds`
            : healthz?.cpuUs && x.cpuUs
              ? ` (no ceiling script on this store; ${ratio(x.cpuUs, healthz.cpuUs)} of /healthz)`
              : '';
          return `${x.system} ${roundsOf(x.rps, x.rpsRounds)} pages/s, ${historyCpu(x)} CPU-µs per page${against}`;
        })
        .join('; ')}.`,
    );
  }
  return out;
}

export interface Results {
  idle?: IdleResult;
  priv?: PrivateResult;
  group?: GroupResult;
  storm?: StormResult;
  history?: HistoryResult;
}

/** BENCHMARKS.md's text for these results; charts go to `charts` (bench/charts). */
export function renderReport(results: Results, charts = join(benchDir, 'charts')): string {
  chartsDir = charts;
  const { idle, priv, group, storm, history } = results;
  const meta = [idle, priv, group, storm, history].find(Boolean)?.meta;
  const header = readFileSync(join(benchDir, 'BENCHMARKS.head.md'), 'utf8');
  // Title and introduction, the summary and findings, then the method and the sections.
  const [intro, method = ''] = header.split(/^(?=## Method)/m) as [string, string?];
  const out = [intro.trimEnd(), ''];
  const lines = summary(results);
  if (lines.length) out.push('## Summary', '', ...lines, '');
  const findings = join(benchDir, 'BENCHMARKS.findings.md');
  if (existsSync(findings)) out.push(readFileSync(findings, 'utf8').trimEnd(), '');
  out.push(method.trimEnd(), '');
  if (meta) {
    out.push('## Machine and versions', '');
    out.push(
      `- ${meta.cpu}, ${meta.cores} cores, ${meta.memoryGiB} GiB, shared with other engineers' builds and tests; Node ${meta.node}`,
    );
    out.push(
      `- ${Object.entries(meta.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    out.push('');
  }
  const sections: Array<[unknown, () => string[], string]> = [
    [idle, () => idleSection(idle!), 'bench:idle'],
    [priv, () => privateSection(priv!), 'bench:private'],
    [group, () => groupSection(group!), 'bench:group'],
    [storm, () => stormSection(storm!), 'bench:storm'],
    [history, () => historySection(history!), 'bench:history'],
  ];
  for (const [result, section, script] of sections) {
    if (result) out.push(...section(), '');
    else out.push(`_\`npm run ${script}\` has not been run yet._`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Rewrites BENCHMARKS.md and bench/charts from bench/results. */
export function writeReport() {
  const text = renderReport({
    idle: load<IdleResult>('idle'),
    priv: load<PrivateResult>('private-chat'),
    group: load<GroupResult>('group'),
    storm: load<StormResult>('reconnect-storm'),
    history: load<HistoryResult>('history'),
  });
  writeFileSync(join(root, 'BENCHMARKS.md'), text);
}

if (isMain(import.meta)) writeReport();
