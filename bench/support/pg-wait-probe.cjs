// Samples what PostgreSQL's processes are doing, to put a latency tail's stall on the
// database's side of the clock, beside the server's (stall-probe.cjs):
//   node bench/support/pg-wait-probe.cjs postgres://postgres@127.0.0.1:5432/test \
//     /tmp/probe/pg-waits.log [INTERVAL_MS] &
//   ... the benchmark ..., then stop it (SIGTERM) and
//   sort -n stall-<pid>.log /tmp/probe/pg-waits.log > /tmp/probe/both.log
//   node bench/support/stall-timeline.cjs /tmp/slow.txt /tmp/probe/both.log
// Every INTERVAL_MS (default 5) it reads pg_stat_activity on one connection of its own and
// appends a line whenever a process starts doing something else, with the wall clock in
// ms (the load generators' clock: one machine):
//   pg PID TYPE STATE WAIT_TYPE/WAIT_EVENT QUERY
//   pg PID idle                     (no longer doing any of the below)
// a client backend running a statement (`active`) or holding a transaction open between
// statements (`idle in transaction`, waiting on its client), and a background process
// (checkpointer, WAL writer, a VACUUM's worker…) in anything but its idle loop (wait type
// Activity). Idle backends are left out. Each sample is a statement on the server itself,
// about 0.1 ms of a backend, so compare tails with the probe on both sides.
'use strict';
const { appendFileSync } = require('node:fs');
const { setTimeout: sleep } = require('node:timers/promises');
const pg = require('pg');

const [url, file, interval] = process.argv.slice(2);
if (!url || !file) {
  console.error('usage: node bench/support/pg-wait-probe.cjs DATABASE_URL OUT [INTERVAL_MS]');
  process.exit(2);
}
const everyMs = Number(interval ?? 5);
const SAMPLE = `
  select pid, backend_type, coalesce(state, '-') as state,
    coalesce(wait_event_type, '-') || '/' || coalesce(wait_event, '-') as wait,
    regexp_replace(left(coalesce(query, ''), 60), '\\s+', ' ', 'g') as query
  from pg_stat_activity
  where pid <> pg_backend_pid()
    and (state in ('active', 'idle in transaction')
      or (backend_type <> 'client backend' and wait_event_type is distinct from 'Activity'))`;

const lines = [];
const flush = () => {
  if (lines.length > 0) appendFileSync(file, `${lines.splice(0).join('\n')}\n`);
};

async function main() {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  process.on('SIGINT', () => (stopping = true));
  setInterval(flush, 500).unref();
  // Each process's last line: a line is written only when what it does changes.
  const last = new Map();
  while (!stopping) {
    const at = Date.now();
    const { rows } = await client.query(SAMPLE);
    const seen = new Set();
    for (const r of rows) {
      const now = `${r.backend_type.replace(/ /g, '_')} ${r.state.replace(/ /g, '_')} ${r.wait} ${r.query}`;
      seen.add(r.pid);
      if (last.get(r.pid) !== now) lines.push(`${at} pg ${r.pid} ${now}`);
      last.set(r.pid, now);
    }
    for (const pid of last.keys()) {
      if (seen.has(pid)) continue;
      lines.push(`${at} pg ${pid} idle`);
      last.delete(pid);
    }
    const left = everyMs - (Date.now() - at);
    if (left > 0) await sleep(left);
  }
  flush();
  await client.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
