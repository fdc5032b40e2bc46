/**
 * `npm run bench:verify`: reruns the headline scenarios briefly and fails when a figure
 * falls outside its recorded range by more than the stated noise.
 *
 * The figures are ratios of server CPU-µs per unit of work to a ceiling script measured
 * in the same run, round by round (rounds alternate between the two): on a shared or
 * noisy machine both sides slow down together, so the ratio holds where throughput moves
 * 2x between runs. Recorded in bench/headline.json:
 *
 *   npm run bench:verify -- --record    # measure (BENCH_VERIFY_ROUNDS rounds) and write
 *   npm run bench:verify                # measure and compare with the file
 *
 * A figure fails when its median is above the recorded range's top × (1 + noise) (easy-chat
 * got slower) or below its bottom × (1 − noise) (faster: the documented figure is stale;
 * record again). Scenarios, on SQLite:
 *
 * - private message stored, answered, pushed (bench/cpu-per-message.ts) ÷ ceiling-chat.ts;
 * - a history page of 50 (bench/history.ts) ÷ ceiling-history.ts;
 * - group delivery, 1,000 and 10,000 members online (bench/group.ts) ÷ the bare `ws` relay;
 *
 * and on PostgreSQL, when it answers (BENCH_DATABASE_URL, TEST_DATABASE_URL, or the local
 * server on :5432 as every benchmark takes it):
 *
 * - private message: Node + every PostgreSQL process ÷ ceiling-chat-pg.ts's (issue 14's
 *   goal 1 for PostgreSQL counts the database server's CPU too), measured in the same
 *   alternating rounds as SQLite's;
 * - a history page of 50: Node + the backends of its own connections ÷ the ceiling's (a
 *   page's SQL runs in the backend).
 *
 * Where no PostgreSQL answers its figures are skipped, not failed, and `--record` keeps the
 * ones already in the file.
 *
 *   BENCH_VERIFY_ROUNDS (3)  BENCH_VERIFY_SECONDS (4)  BENCH_VERIFY_NOISE (0.35)
 *   BENCH_VERIFY_GROUP_SIZES (1000,10000): the group sizes measured
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { runCpuPerMessage } from './cpu-per-message.js';
import { runGroup } from './group.js';
import { runHistory, type HistoryRow } from './history.js';
import { envNumber, isMain, log, main } from './support/run.js';
import { DATABASE_URL } from './support/systems.js';

const HEADLINE_FILE = new URL('headline.json', import.meta.url).pathname;

export interface Figure {
  /** What is measured, and against what. */
  what: string;
  median: number;
  min: number;
  max: number;
}
export interface Headline {
  recordedAt: string;
  /** Allowed distance outside the recorded range, as a fraction of its bound. */
  noise: number;
  figures: Record<string, Figure>;
}

function figure(what: string, ratios: number[]): Figure {
  const sorted = [...ratios].sort((a, b) => a - b);
  return {
    what,
    median: sorted[Math.floor(sorted.length / 2)]!,
    min: sorted[0]!,
    max: sorted.at(-1)!,
  };
}

/** The group sizes to measure: BENCH_VERIFY_GROUP_SIZES, or 1,000 and 10,000. */
function groupSizes(): number[] {
  const sizes = (process.env.BENCH_VERIFY_GROUP_SIZES ?? '1000,10000')
    .split(',')
    .map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 2))
    throw new Error('BENCH_VERIFY_GROUP_SIZES: group sizes of 2 or more, comma-separated');
  return sizes;
}

/** Round-by-round ratios of two series measured in alternating rounds. */
function ratios(system: number[], ceiling: number[]): number[] {
  return system.map((x, k) => x / ceiling[k]!);
}

/** The figures measured on PostgreSQL: skipped, not failed, without one. */
export const POSTGRES_FIGURES = ['private.postgres', 'history.postgres'];

/** Whether the PostgreSQL at `url` answers a connection within a few seconds. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Measures every headline figure; those of PostgreSQL only `onPostgres` (the scenarios
 * take its URL from BENCH_DATABASE_URL or TEST_DATABASE_URL).
 */
export async function measureHeadline(
  rounds: number,
  seconds: number,
  onPostgres: boolean,
): Promise<Record<string, Figure>> {
  const figures: Record<string, Figure> = {};

  const cpu = await runCpuPerMessage({
    rate: 1000,
    pairs: 50,
    seconds,
    rounds,
    stores: onPostgres ? ['sqlite', 'postgres'] : ['sqlite'],
  });
  // Each easy-chat row beside its store's ceiling (the row it names), round by round.
  for (const easy of cpu.filter((r) => !r.system.startsWith('ceiling'))) {
    const ceiling = cpu.find((r) => r.system === easy.ceiling)!;
    const postgres = easy.system.includes('PostgreSQL');
    figures[postgres ? 'private.postgres' : 'private.sqlite'] = figure(
      postgres
        ? 'Node + PostgreSQL CPU-µs per private message (stored, answered, pushed) ÷ ceiling-chat-pg.ts'
        : 'server CPU-µs per private message (stored, answered, pushed) ÷ ceiling-chat.ts',
      ratios(easy.rounds, ceiling.rounds),
    );
  }

  const history = await runHistory({
    pairs: 10,
    messages: 300,
    pageSize: 50,
    durationSeconds: seconds,
    rounds,
    connections: 20,
    storages: onPostgres ? ['sqlite', 'postgres'] : ['sqlite'],
  });
  // Each engine's page rows, easy-chat's against its ceiling's, round by round; the CPU
  // of each one's own backends is added where there are any (PostgreSQL's).
  const pageRatios = (engine: string): number[] => {
    const row = (name: string) =>
      history.rows.find(
        (r) =>
          r.endpoint.includes('chatlog') &&
          r.system.startsWith(name) &&
          r.system.includes(`(${engine})`),
      )!;
    const cpu = (r: HistoryRow) => r.cpuRounds!.map((node, k) => node + (r.dbCpuRounds?.[k] ?? 0));
    return ratios(cpu(row('easy-chat')), cpu(row('ceiling')));
  };
  figures['history.sqlite'] = figure(
    'server CPU-µs per history page of 50 ÷ ceiling-history.ts',
    pageRatios('SQLite'),
  );
  if (onPostgres)
    figures['history.postgres'] = figure(
      'Node + its PostgreSQL backends CPU-µs per history page of 50 ÷ ceiling-history.ts',
      pageRatios('PostgreSQL'),
    );

  // The group of 10,000 is set up in bulk (bench/support/bulk-group.ts): its 10,000
  // registrations and sockets take about a minute and a half. Rounds of 200 messages to
  // 1,000 and 40 to 10,000 (200,000 and 400,000 deliveries, 3-6 s of a core): with 20
  // and 10 a round was under half a second, and the server's background work (the
  // checkpointer, 10-15 CPU-ms/s) and the machine's other load moved it by several %.
  for (const size of groupSizes()) {
    const group = await runGroup({
      sizes: [size],
      messages: size >= 10_000 ? 40 : 200,
      rounds,
      workers: 2,
      systems: ['easy-chat', 'ws'],
      timeoutMs: 120_000,
    });
    const groupEasy = group.rows.find((r) => r.system.startsWith('easy-chat'))!;
    const groupWs = group.rows.find((r) => r.system === 'bare ws')!;
    figures[`group${size}.sqlite`] = figure(
      `server CPU-µs per delivery, group of ${size.toLocaleString('en')} online ÷ bare ws relay`,
      ratios(
        groupEasy.rounds.map((r) => r.cpuUsPerDelivery),
        groupWs.rounds.map((r) => r.cpuUsPerDelivery),
      ),
    );
  }
  return figures;
}

/**
 * Names of the figures outside their range by more than the noise, with why. A recorded
 * figure that was not measured fails, unless it is one of `skipped` (its store is not
 * configured here).
 */
export function compare(
  recorded: Headline,
  measured: Record<string, Figure>,
  skipped: readonly string[] = [],
): string[] {
  const failures: string[] = [];
  for (const [name, want] of Object.entries(recorded.figures)) {
    const got = measured[name];
    if (!got) {
      if (!skipped.includes(name)) failures.push(`${name}: not measured`);
      continue;
    }
    const top = want.max * (1 + recorded.noise);
    const bottom = want.min * (1 - recorded.noise);
    if (got.median > top)
      failures.push(`${name}: ${got.median.toFixed(2)}x is above ${top.toFixed(2)}x (slower)`);
    else if (got.median < bottom)
      failures.push(
        `${name}: ${got.median.toFixed(2)}x is below ${bottom.toFixed(2)}x (faster: record again)`,
      );
  }
  return failures;
}

if (isMain(import.meta))
  main(async () => {
    const record = process.argv.includes('--record');
    const rounds = envNumber('BENCH_VERIFY_ROUNDS', 3);
    const seconds = envNumber('BENCH_VERIFY_SECONDS', 4);
    const onPostgres = await postgresAnswers(DATABASE_URL);
    const skipped = onPostgres ? [] : POSTGRES_FIGURES;
    if (!onPostgres)
      log(
        `no PostgreSQL answers (BENCH_DATABASE_URL, TEST_DATABASE_URL or :5432): ${skipped.join(', ')} skipped`,
      );
    const measured = await measureHeadline(rounds, seconds, onPostgres);
    log('');
    log('| figure | median (range) of the rounds |');
    log('| --- | ---: |');
    for (const [name, f] of Object.entries(measured))
      log(
        `| ${name}: ${f.what} | ${f.median.toFixed(2)}x (${f.min.toFixed(2)}–${f.max.toFixed(2)}) |`,
      );
    if (record) {
      // A figure of a store not configured here keeps its earlier record.
      const earlier = existsSync(HEADLINE_FILE)
        ? (JSON.parse(readFileSync(HEADLINE_FILE, 'utf8')) as Headline).figures
        : {};
      const kept = Object.fromEntries(
        Object.entries(earlier).filter(([name]) => skipped.includes(name)),
      );
      const headline: Headline = {
        recordedAt: new Date().toISOString(),
        noise: envNumber('BENCH_VERIFY_NOISE', 0.35),
        figures: { ...measured, ...kept },
      };
      writeFileSync(HEADLINE_FILE, `${JSON.stringify(headline, null, 2)}\n`);
      log(`recorded in ${HEADLINE_FILE}`);
      return;
    }
    const recorded = JSON.parse(readFileSync(HEADLINE_FILE, 'utf8')) as Headline;
    const failures = compare(recorded, measured, skipped);
    for (const f of failures) log(`FAIL ${f}`);
    if (failures.length > 0) throw new Error(`${failures.length} figure(s) outside their range`);
    log(`every figure within its recorded range ± ${recorded.noise * 100}%`);
  });
