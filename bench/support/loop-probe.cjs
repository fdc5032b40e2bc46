// Preloaded into a benchmark's servers to see where a latency tail comes from:
//   BENCH_SERVER_NODE_ARGS="--require $PWD/bench/support/loop-probe.cjs" npm run bench:private
// (an absolute path: each server runs in its own checkout).
// Every 2 s each server process appends one line to loop-probe-<pid>.log in
// LOOP_PROBE_DIR (default: the system's temp directory): the event loop's delay
// (p50, p99, max) and the GC pauses of those 2 s (count, total, longest, by kind:
// 1 scavenge, 4 mark-compact, 8 incremental marking). A tail with a quiet loop is
// time spent waiting (for the database, say), not JavaScript holding the loop.
'use strict';
const { monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const file = join(process.env.LOOP_PROBE_DIR || tmpdir(), `loop-probe-${process.pid}.log`);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const pauses = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) pauses.push([entry.detail?.kind, entry.duration]);
}).observe({ entryTypes: ['gc'] });

const ms = (ns) => (ns / 1e6).toFixed(1);
setInterval(() => {
  const gc = pauses.splice(0);
  const total = gc.reduce((sum, [, d]) => sum + d, 0);
  const longest = gc.reduce((max, [, d]) => Math.max(max, d), 0);
  const kinds = {};
  for (const [kind] of gc) kinds[kind] = (kinds[kind] || 0) + 1;
  const time = new Date().toISOString().slice(11, 23);
  appendFileSync(
    file,
    `${time} loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} ` +
      `max ${ms(delay.max)} ms | gc ${gc.length} pauses, ${total.toFixed(0)} ms, longest ` +
      `${longest.toFixed(1)}, by kind ${JSON.stringify(kinds)}\n`,
  );
  delay.reset();
}, 2000).unref();
