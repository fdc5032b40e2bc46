// Preloaded into a benchmark's servers to profile only the windows in which they are under
// load (a `bench:cpu` round, not the start-up, fixtures and idle turns between):
//   BENCH_SERVER_NODE_ARGS="--require $PWD/bench/support/load-window-probe.cjs"
//   LOAD_PROBE=cpu   V8's CPU profiler, one sample every LOAD_PROBE_INTERVAL_US (200) µs
//   LOAD_PROBE=heap  V8's sampling heap profiler, one sample per 1 KB allocated, keeping
//                    the objects scavenges and mark-compacts collected (so: every byte a
//                    window allocated, by the stack that allocated it)
// A window opens when the process used more than 20% of a core over the last 200 ms and
// closes after 3 s below it (a loaded machine starves a busy server for a second or
// two) or when the process exits; with LOAD_PROBE_TRIGGER=signal each SIGUSR2 opens or
// closes one instead (BENCH_PROBE_SIGNAL=1 makes bench/cpu-per-message.ts send them at
// the start and end of each easy-chat round: exact rounds, the way to measure). Each is
// written to LOAD_PROBE_DIR (default the temp directory) as load-<pid>-<n>.cpuprofile or
// .heapprofile, noted in load-<pid>.log. Divide by the messages the bench reports for
// that round (`node bench/support/profile-summary.cjs FILE MESSAGES [TOP] [--inclusive]`).
'use strict';
// Worker threads (the WAL checkpointer's) load it too: only the main thread is profiled.
if (!require('node:worker_threads').isMainThread) return;
const inspector = require('node:inspector');
const { appendFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const mode = process.env.LOAD_PROBE || 'cpu';
const dir = process.env.LOAD_PROBE_DIR || tmpdir();
const interval = Number(process.env.LOAD_PROBE_INTERVAL_US || 200);
const session = new inspector.Session();
session.connect();
const note = (what) =>
  appendFileSync(join(dir, `load-${process.pid}.log`), `${new Date().toISOString()} ${what}\n`);

let last = process.cpuUsage();
let lastAt = process.hrtime.bigint();
let open = false;
let openedAt = 0n;
let quietSince = 0n;
let windows = 0;

function start() {
  open = true;
  note(`window ${windows} opens`);
  openedAt = process.hrtime.bigint();
  if (mode === 'heap') {
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }),
    );
  } else {
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval }, () =>
        session.post('Profiler.start'),
      ),
    );
  }
}

function stop() {
  open = false;
  const n = windows++;
  const ms = Number(process.hrtime.bigint() - openedAt) / 1e6;
  const done = (err, result) => {
    if (err) return note(`window ${n} failed: ${err.message}`);
    const file = join(
      dir,
      `load-${process.pid}-${n}.${mode === 'heap' ? 'heapprofile' : 'cpuprofile'}`,
    );
    writeFileSync(file, JSON.stringify(result.profile));
    note(`window ${n}: ${ms.toFixed(0)} ms -> ${file}`);
  };
  if (mode === 'heap') {
    session.post('HeapProfiler.getSamplingProfile', (err, result) => {
      session.post('HeapProfiler.stopSampling');
      done(err, result);
    });
  } else {
    session.post('Profiler.stop', done);
  }
  // Writing the profile is work of its own, not load: the next window starts afresh.
  last = process.cpuUsage();
  lastAt = process.hrtime.bigint();
}

// LOAD_PROBE_TRIGGER=signal: no guessing from the CPU; each SIGUSR2 opens or closes a
// window (bench/cpu-per-message.ts sends one at the start and at the end of each of an
// easy-chat server's rounds with BENCH_PROBE_SIGNAL=1).
const bySignal = process.env.LOAD_PROBE_TRIGGER === 'signal';
if (bySignal) process.on('SIGUSR2', () => (open ? stop() : start()));

setInterval(() => {
  if (bySignal) return;
  const now = process.hrtime.bigint();
  const usage = process.cpuUsage(last);
  last = process.cpuUsage();
  const wallUs = Number(now - lastAt) / 1e3;
  lastAt = now;
  const busy = usage.user + usage.system > 0.2 * wallUs;
  if (busy) {
    quietSince = 0n;
    if (!open) start();
  } else if (open) {
    if (quietSince === 0n) quietSince = now;
    else if (now - quietSince > 3_000_000_000n) stop();
  }
}, 200).unref();
// A window still open when the server stops (the round's end): the inspector answers
// synchronously on the main thread, so it is written before the process exits.
process.on('exit', () => {
  if (open) stop();
});
