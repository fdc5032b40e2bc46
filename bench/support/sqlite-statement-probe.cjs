/**
 * Preload for a bench server on SQLite (easy-chat's or the ceiling's): times every
 * better-sqlite3 statement run (`run`, `get`, `all`) by its text and counts them, and
 * writes the sums to SQLITE_PROBE_DIR/<pid>.json when the process exits. What it tells:
 * the statements and COMMITs per message (commits per message is the group commit's
 * batch size inverted) and the wall time of each inside the server, per call.
 *
 *   BENCH_SERVER_NODE_ARGS="--require $PWD/bench/support/sqlite-statement-probe.cjs" \
 *   NODE_OPTIONS="--require $PWD/bench/support/sqlite-statement-probe.cjs" \
 *   SQLITE_PROBE_DIR=/tmp/sqlprobe BENCH_STORES=sqlite npx tsx bench/cpu-per-message.ts
 *   node bench/support/sqlite-statement-probe.cjs /tmp/sqlprobe/*.json
 *
 * (NODE_OPTIONS reaches the ceiling's process, BENCH_SERVER_NODE_ARGS easy-chat's; the
 * probe's directory reaches easy-chat through LOAD_PROBE_DIR if SQLITE_PROBE_DIR is not
 * passed on.) Wall time, not CPU: read it on a quiet machine, or as shares.
 */
'use strict';
const { writeFileSync, mkdirSync, readFileSync, openSync, readSync } = require('node:fs');
const { join } = require('node:path');
const { Buffer } = require('node:buffer');

if (require.main === module) {
  // Summary: node sqlite-statement-probe.cjs FILE...
  for (const file of process.argv.slice(2)) {
    const { stats, batches: b } = JSON.parse(readFileSync(file, 'utf8'));
    const messages = Object.entries(stats)
      .filter(([text]) => /^insert into messages/i.test(text))
      .reduce((n, [, s]) => n + s.calls, 0);
    if (messages === 0) continue;
    console.log(`${file}: ${messages} messages`);
    if (b.commits > 0) {
      const sizes = Object.entries(b.sizes).map(([n, c]) => [Number(n), c]);
      const weighted = (q) => {
        // The batch size the q-th message was in.
        let seen = 0;
        for (const [n, c] of sizes) if ((seen += n * c) >= q * b.messages) return n;
        return NaN;
      };
      console.log(
        `  transactions with messages: ${b.commits}, ${(b.messages / b.commits).toFixed(1)} messages each ` +
          `(a message's batch: median ${weighted(0.5)}, p10 ${weighted(0.1)}, p90 ${weighted(0.9)}); ` +
          `their COMMIT ${(b.commitNs / 1000 / b.commits).toFixed(0)} µs each, ${(b.commitNs / 1000 / b.messages).toFixed(1)} µs a message ` +
          `(CPU of the main thread: ${(b.commitCpuNs / 1000 / b.commits).toFixed(0)} µs each, ${(b.commitCpuNs / 1000 / b.messages).toFixed(1)} µs a message); ` +
          `other commits ${b.otherCommits}`,
      );
    }
    const rows = Object.entries(stats).sort((a, b) => b[1].ns - a[1].ns);
    for (const [text, s] of rows) {
      const perMessage = s.ns / 1000 / messages;
      if (perMessage < 0.05) continue;
      console.log(
        `  ${perMessage.toFixed(2).padStart(7)} µs/msg ${(s.calls / messages).toFixed(3).padStart(7)} calls/msg ` +
          `${(s.ns / 1000 / s.calls).toFixed(2).padStart(8)} µs/call  ${text}`,
      );
    }
  }
  return;
}

let Database;
try {
  Database = require(require.resolve('better-sqlite3', { paths: [process.cwd()] }));
} catch {
  return;
}
const dir = process.env.SQLITE_PROBE_DIR || process.env.LOAD_PROBE_DIR || '/tmp/sqlprobe';
const stats = Object.create(null);
const keyOf = new WeakMap();
/** Transactions that stored messages: how many, and how many messages each. */
const batches = {
  commits: 0,
  messages: 0,
  commitNs: 0,
  sizes: Object.create(null),
  otherCommits: 0,
};
let open;
/** The main thread's CPU time in ns (schedstat's first field), read around each COMMIT. */
const schedstat = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
const buffer = Buffer.alloc(100);
function threadCpuNs() {
  const n = readSync(schedstat, buffer, 0, 100, 0);
  return Number(buffer.toString('latin1', 0, n).split(' ')[0]);
}
batches.commitCpuNs = 0;
const proto = Object.getPrototypeOf(
  Database.prototype.prepare.call(new Database(':memory:'), 'select 1'),
);
for (const method of ['run', 'get', 'all']) {
  const original = proto[method];
  proto[method] = function timed(...args) {
    let key = keyOf.get(this);
    if (key === undefined) {
      key = this.source.replace(/\s+/g, ' ').trim().slice(0, 90).toLowerCase();
      keyOf.set(this, key);
    }
    const cpuBefore = key === 'commit' ? threadCpuNs() : 0;
    const started = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const ns = Number(process.hrtime.bigint() - started);
      const s = (stats[key] ??= { calls: 0, ns: 0 });
      s.calls += 1;
      s.ns += ns;
      if (key === 'begin') open = { messages: 0 };
      else if (key.startsWith('insert into messages') && open) open.messages += 1;
      else if (key === 'commit' && open) {
        if (open.messages > 0) {
          batches.commits += 1;
          batches.messages += open.messages;
          batches.commitNs += ns;
          batches.commitCpuNs += threadCpuNs() - cpuBefore;
          batches.sizes[open.messages] = (batches.sizes[open.messages] ?? 0) + 1;
        } else batches.otherCommits += 1;
        open = undefined;
      }
    }
  };
}
process.on('exit', () => {
  if (Object.keys(stats).length === 0) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${process.pid}.json`),
    JSON.stringify({ argv: process.argv, stats, batches }),
  );
});
