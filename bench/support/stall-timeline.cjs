// Puts the slowest 1 % of each step's round trips beside what the server's threads did then:
//   node bench/support/stall-timeline.cjs SLOW_DUMP STALL_LOG [TAGS]
// SLOW_DUMP: written by the load generators with BENCH_SLOW_DUMP=<file> (bench/private-chat.ts:
// every round trip over 12 ms, its wall-clock send time and legs); STALL_LOG: a server's
// stall-<pid>.log (stall-probe.cjs). TAGS (comma-separated, e.g. `9.,c.`) limits the steps.
// Per step: when its slowest 1 % were sent (100 ms bins, ms into the step), then every
// probe event from 150 ms before the first of them to the last one's answer.
'use strict';
const { readFileSync } = require('node:fs');

const [dumpFile, probeFile, tagList] = process.argv.slice(2);
if (!dumpFile || !probeFile) {
  console.error('usage: node bench/support/stall-timeline.cjs SLOW_DUMP STALL_LOG [TAGS]');
  process.exit(2);
}
const wanted = tagList ? new Set(tagList.split(',')) : undefined;
const steps = new Map();
let step;
for (const line of readFileSync(dumpFile, 'utf8').split('\n')) {
  if (line.startsWith('#')) {
    // "# step <tag> start <ms> rate <r> n <n>": one header per load generator.
    const [, , tag, , start, , rate, , n] = line.split(' ');
    step = steps.get(tag) ?? { tag, start: Number(start), rate: 0, n: 0, slow: [] };
    step.start = Math.min(step.start, Number(start));
    step.rate += Number(rate);
    step.n += Number(n);
    steps.set(tag, step);
  } else if (line.trim() && step) {
    const [sent, roundTrip] = line.split(' ').map(Number);
    step.slow.push({ sent, roundTrip, legs: line.split(' ').slice(2).join(' ') });
  }
}
const events = readFileSync(probeFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => {
    const space = line.indexOf(' ');
    return { at: Number(line.slice(0, space)), text: line.slice(space + 1) };
  })
  .sort((a, b) => a.at - b.at);

for (const s of steps.values()) {
  if (wanted && !wanted.has(s.tag)) continue;
  const slowest = s.slow
    .sort((a, b) => b.roundTrip - a.roundTrip)
    .slice(0, Math.max(1, Math.ceil(s.n / 100)));
  if (slowest.length === 0) continue;
  const first = Math.min(...slowest.map((r) => r.sent));
  const last = Math.max(...slowest.map((r) => r.sent + r.roundTrip));
  const bins = new Map();
  for (const r of slowest) {
    const bin = Math.floor((r.sent - s.start) / 100) * 100;
    bins.set(bin, (bins.get(bin) ?? 0) + 1);
  }
  const during = events.filter((e) => e.at >= first - 150 && e.at <= last + 50);
  console.log(
    `step ${s.tag} ${s.rate}/s, ${s.n} round trips: slowest 1 % ${slowest.at(-1).roundTrip}–${slowest[0].roundTrip} ms, sent at (ms into the step: count) ${[
      ...bins,
    ]
      .sort((a, b) => a[0] - b[0])
      .map(([b, c]) => `${b}: ${c}`)
      .join(', ')}`,
  );
  for (const e of during) console.log(`  ${(e.at - s.start).toFixed(0).padStart(6)} ${e.text}`);
}
