// Reads what V8 logged about a server's GC. Two uses:
//
//   node bench/support/gc-summary.cjs LOG [MESSAGES] [SECONDS]
//     LOG holds a run's output with the servers started with
//     BENCH_SERVER_NODE_ARGS="--trace-gc-nvp": per process, its scavenges (those of the last
//     SECONDS of its log when given: the load's window, the server stops right after it):
//     count, pause p50/p90/max and total, bytes allocated, promoted and copied, and with
//     MESSAGES (answered in that window) the same per message and per 10,000 messages.
//
//   node bench/support/gc-summary.cjs --profile FIRST.json LAST.json [DEPTH] [ROWS]
//     Two sampling heap profiles (survivor-probe.cjs): bytes by allocating stack (its DEPTH
//     innermost frames, default 1) in each, largest in LAST first.
'use strict';
const { readFileSync } = require('node:fs');

function gcRows(file) {
  const rows = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /\[(\d+):0x[0-9a-f]+\]\s+(\d+) ms: (pause=.*)/.exec(line);
    if (!m) continue;
    const kv = Object.fromEntries(
      m[3]
        .trim()
        .split(/\s+/)
        .map((p) => p.split('=')),
    );
    rows.push({
      pid: m[1],
      t: Number(m[2]),
      gc: kv.gc,
      pause: Number(kv.pause),
      allocated: Number(kv.allocated),
      promoted: Number(kv.promoted),
      copied: Number(kv.new_space_survived),
    });
  }
  return rows;
}

const sum = (rows, f) => rows.reduce((total, r) => total + f(r), 0);
const at = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const mb = (bytes) => (bytes / 1e6).toFixed(1);

function summary(file, messages, seconds) {
  const byPid = new Map();
  for (const row of gcRows(file)) {
    if (!byPid.has(row.pid)) byPid.set(row.pid, []);
    byPid.get(row.pid).push(row);
  }
  for (const [pid, all] of byPid) {
    const end = all[all.length - 1].t;
    const rows = seconds ? all.filter((r) => r.t >= end - seconds * 1000) : all;
    const scavenges = rows.filter((r) => r.gc === 's');
    const others = rows.filter((r) => r.gc !== 's');
    if (scavenges.length === 0) continue;
    const pauses = scavenges.map((r) => r.pause).sort((a, b) => a - b);
    const allocated = sum(scavenges, (r) => r.allocated);
    const promoted = sum(scavenges, (r) => r.promoted);
    const paused = sum(scavenges, (r) => r.pause);
    let line =
      `${pid}: ${scavenges.length} scavenges, pause p50 ${at(pauses, 0.5).toFixed(1)} p90 ` +
      `${at(pauses, 0.9).toFixed(1)} max ${pauses[pauses.length - 1].toFixed(1)} ms, total ` +
      `${paused.toFixed(0)} ms; allocated ${mb(allocated)} MB, promoted ${mb(promoted)} MB ` +
      `(${((100 * promoted) / allocated).toFixed(2)}%), copied ${mb(sum(scavenges, (r) => r.copied))} MB; ` +
      `${others.length} other GCs, ${sum(others, (r) => r.pause).toFixed(0)} ms`;
    if (messages) {
      line +=
        `; per message: allocated ${(allocated / messages).toFixed(0)} B, promoted ` +
        `${(promoted / messages).toFixed(0)} B; per 10,000 messages: ` +
        `${((scavenges.length * 1e4) / messages).toFixed(1)} scavenges, ` +
        `${((paused * 1e4) / messages).toFixed(0)} ms, ${mb((promoted * 1e4) / messages)} MB promoted`;
    }
    console.log(line);
  }
}

function byStack(file, depth) {
  const bytes = new Map();
  const walk = (node, stack) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const frame = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`;
    const here = [frame, ...stack].slice(0, depth);
    if (node.selfSize)
      bytes.set(here.join(' < '), (bytes.get(here.join(' < ')) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, here);
  };
  walk(JSON.parse(readFileSync(file, 'utf8')).head, []);
  return bytes;
}

function profiles(first, last, depth, limit) {
  const a = byStack(first, depth);
  const b = byStack(last, depth);
  const total = (m) => [...m.values()].reduce((s, v) => s + v, 0);
  console.log(`sampled bytes: ${total(a)} then ${total(b)}`);
  const rows = [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => [k, a.get(k) ?? 0, b.get(k) ?? 0])
    .sort((x, y) => y[2] - x[2]);
  for (const [k, x, y] of rows.slice(0, limit)) {
    console.log(`${String(x).padStart(10)} ${String(y).padStart(10)}  ${k}`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--profile')
  profiles(args[1], args[2], Number(args[3] ?? 1), Number(args[4] ?? 40));
else summary(args[0], Number(args[1] ?? 0), Number(args[2] ?? 0));
