// Preloaded into a benchmark's servers to put a latency tail's stall on a clock:
//   BENCH_SERVER_NODE_ARGS="--require $PWD/bench/support/stall-probe.cjs" \
//   BENCH_SLOW_DUMP=/tmp/slow.txt npx tsx bench/private-chat.ts
//   node bench/support/stall-timeline.cjs /tmp/slow.txt $LOOP_PROBE_DIR/stall-<pid>.log
// Appends to stall-<pid>.log in LOOP_PROBE_DIR (default the system's temp directory), one
// line per event, each with the wall clock in ms (the load generators' clock: one machine)
// and the thread (t0 the main thread; the WAL checkpointer's worker loads this file too):
//   stall MS      the main thread's 1 ms timer came MS late (over 6 ms): the event loop was
//                 held, or the process was waiting for a core;
//   gc kind K MS  a GC pause over 1 ms (1 scavenge, 4 mark-compact, 8 incremental
//                 marking), with its start;
//   sql MS TEXT   a better-sqlite3 call over 2 ms (exec, pragma, a statement's run/get/all),
//                 by its SQL: a COMMIT's fsync, the checkpointer's wal_checkpoint.
// The 1 ms timer costs the server some CPU: compare tails with the probe on both sides.
'use strict';
const { PerformanceObserver, performance } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');
const { isMainThread, threadId } = require('node:worker_threads');
const Module = require('node:module');

const file = join(process.env.LOOP_PROBE_DIR || tmpdir(), `stall-${process.pid}.log`);
const now = () => performance.timeOrigin + performance.now();
const lines = [];
const note = (what) => lines.push(`${now().toFixed(1)} t${threadId} ${what}`);
const flush = () => {
  if (lines.length > 0) appendFileSync(file, `${lines.splice(0).join('\n')}\n`);
};
setInterval(flush, 500).unref();
process.on('exit', flush);

if (isMainThread) {
  let last = now();
  setInterval(() => {
    const at = now();
    if (at - last > 6) note(`stall ${(at - last).toFixed(1)}`);
    last = at;
  }, 1).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.duration > 1)
        note(
          `gc kind ${e.detail?.kind} ${e.duration.toFixed(1)} start ${(performance.timeOrigin + e.startTime).toFixed(1)}`,
        );
  }).observe({ entryTypes: ['gc'] });
}

// better-sqlite3 is loaded through the CommonJS loader (also from ESM): time its calls.
const load = Module._load;
let timed = false;
Module._load = function (request) {
  const loaded = load.apply(this, arguments);
  if (!timed && /better-sqlite3/.test(String(request)) && loaded?.prototype?.prepare) {
    timed = true;
    timeCalls(loaded);
  }
  return loaded;
};

function timeCalls(Database) {
  const wrap = (proto, name, label) => {
    const call = proto[name];
    proto[name] = function (...args) {
      const at = now();
      try {
        return call.apply(this, args);
      } finally {
        const took = now() - at;
        if (took > 2) note(`sql ${took.toFixed(1)} ${label(this, args)}`);
      }
    };
  };
  wrap(Database.prototype, 'exec', (_, [sql]) => String(sql).slice(0, 80));
  wrap(Database.prototype, 'pragma', (_, [text]) => `pragma ${String(text).slice(0, 60)}`);
  const prepare = Database.prototype.prepare;
  const wrapped = new WeakSet();
  Database.prototype.prepare = function (...args) {
    const statement = prepare.apply(this, args);
    const proto = Object.getPrototypeOf(statement);
    if (!wrapped.has(proto)) {
      wrapped.add(proto);
      for (const method of ['run', 'get', 'all'])
        wrap(proto, method, (s) => `${method} ${s.source.replace(/\s+/g, ' ').slice(0, 90)}`);
    }
    return statement;
  };
}
