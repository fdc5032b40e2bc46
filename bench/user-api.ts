/**
 * Requests per second of the user API on SQLite and PostgreSQL, side by side in one
 * run. Each server is its own process; autocannon runs here. Rounds alternate
 * between the servers so machine noise hits both alike, and /healthz on the same
 * server is the baseline each figure is compared with.
 *
 *   npm run bench:user                  (BENCH_DURATION=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50)
 *   BENCH_DATABASE_URL=postgres://...   (default: the local test database)
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { startServer, type ServerProcess } from './support/server-process.js';

const duration = Number(process.env.BENCH_DURATION ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Scenario {
  name: string;
  options: (server: Target) => autocannon.Options;
}
interface Target {
  label: string;
  server: ServerProcess;
  token: string;
  phone: string;
}

const password = 'bench-password-1';
const json = { 'content-type': 'application/json' };

const scenarios: Scenario[] = [
  { name: 'GET /healthz (baseline)', options: (t) => ({ url: `${t.server.url}/healthz` }) },
  {
    name: 'GET /v1/user/user',
    options: (t) => ({
      url: `${t.server.url}/v1/user/user`,
      headers: { authorization: `Bearer ${t.token}` },
    }),
  },
  {
    name: 'POST /v1/user/login',
    options: (t) => ({
      url: `${t.server.url}/v1/user/login`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ phone: t.phone, password }),
    }),
  },
];

async function prepare(label: string, env: Record<string, string>): Promise<Target> {
  const server = await startServer({
    ...env,
    // The benchmark measures throughput, not the limiter.
    EC_RATE_LIMIT__LOGIN__PER_PHONE_AND_IP__LIMIT: '100000000',
    EC_RATE_LIMIT__LOGIN__PER_PHONE__LIMIT: '100000000',
    EC_RATE_LIMIT__LOGIN__PER_IP__LIMIT: '100000000',
  });
  const phone = `1${String(Date.now()).slice(-10)}`;
  const res = await fetch(`${server.url}/v1/user/register`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ phone, password, nickname: 'bench' }),
  });
  const body = (await res.json()) as { data: { token: string } };
  return { label, server, token: body.data.token, phone };
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ connections, duration, ...options });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const schema = `bench_${Date.now()}`;
  const targets = [
    await prepare('sqlite', {}),
    await prepare('postgres', {
      EC_STORAGE__DRIVER: 'postgres',
      DATABASE_URL: databaseUrl,
      EC_STORAGE__POSTGRES__SCHEMA: schema,
    }),
  ];
  const results = new Map<string, { rps: number[]; p99: number[]; errors: number }>();
  try {
    for (let round = 1; round <= rounds; round += 1) {
      for (const scenario of scenarios) {
        for (const target of targets) {
          const r = await run(scenario.options(target));
          const key = `${scenario.name}|${target.label}`;
          const entry = results.get(key) ?? { rps: [], p99: [], errors: 0 };
          entry.rps.push(r.requests.average);
          entry.p99.push(r.latency.p99);
          entry.errors += r.non2xx + r.errors;
          results.set(key, entry);
          console.error(
            `round ${round}/${rounds}  ${scenario.name.padEnd(26)} ${target.label.padEnd(8)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p99 ${r.latency.p99} ms`,
          );
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.server.stop()));
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }

  console.log(
    `\nUser API, ${connections} connections, ${duration}s x ${rounds} rounds (median), Node ${process.version}\n`,
  );
  console.log(
    '| endpoint | SQLite req/s | PostgreSQL req/s | PG / SQLite | SQLite vs baseline | PG vs baseline | p99 ms (SQLite / PG) | errors |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const base = (label: string) => median(results.get(`${scenarios[0]!.name}|${label}`)!.rps);
  for (const scenario of scenarios) {
    const s = results.get(`${scenario.name}|sqlite`)!;
    const p = results.get(`${scenario.name}|postgres`)!;
    const sr = median(s.rps);
    const pr = median(p.rps);
    console.log(
      `| ${scenario.name} | ${sr.toFixed(0)} | ${pr.toFixed(0)} | ${(pr / sr).toFixed(2)} | ${(sr / base('sqlite')).toFixed(3)} | ${(pr / base('postgres')).toFixed(3)} | ${median(s.p99)} / ${median(p.p99)} | ${s.errors + p.errors} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
