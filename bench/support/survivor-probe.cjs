// Preloaded into a benchmark's servers to see what a scavenge leaves behind (needs --expose-gc):
//   BENCH_SERVER_NODE_ARGS="--expose-gc --require $PWD/bench/support/survivor-probe.cjs"
// then `kill -USR2 <server pid>` during load: the first signal starts V8's sampling heap
// profiler, keeping what a mark-compact collected but dropping what a scavenge collected;
// each later signal runs a scavenge and writes the profile to
// survivors-<pid>-<n>.json in LOOP_PROBE_DIR (default the system's temp directory): the
// allocations since the first signal that survived a scavenge (promoted, dead since or
// not, and what is alive in the young generation), by the stack that allocated them.
// Without --expose-gc the dumps include the young generation's garbage. Read them with
// `node bench/support/gc-summary.cjs --profile FIRST.json LAST.json`.
'use strict';
const inspector = require('node:inspector');
const { appendFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const dir = process.env.LOOP_PROBE_DIR || tmpdir();
const session = new inspector.Session();
session.connect();
let signals = 0;
const note = (what) =>
  appendFileSync(
    join(dir, `survivors-${process.pid}.log`),
    `${new Date().toISOString()} ${what}\n`,
  );

process.on('SIGUSR2', () => {
  const n = signals++;
  if (n === 0) {
    session.post('HeapProfiler.enable', () =>
      session.post(
        'HeapProfiler.startSampling',
        {
          samplingInterval: 1024,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: false,
        },
        (err) => note(err ? `start failed: ${err.message}` : 'sampling'),
      ),
    );
    return;
  }
  if (typeof globalThis.gc === 'function') globalThis.gc({ type: 'minor' });
  session.post('HeapProfiler.getSamplingProfile', (err, result) => {
    if (err) return note(`dump ${n} failed: ${err.message}`);
    writeFileSync(join(dir, `survivors-${process.pid}-${n}.json`), JSON.stringify(result.profile));
    note(`dump ${n}`);
  });
});
