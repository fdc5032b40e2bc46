// A long-lived Map churned as RecordedEvents' was: ~300 entries of ~300 bytes in flight,
// added and taken in order, beside a message path's garbage (docs/performance-log.md,
// "The tail at half capacity: GC, the relay's Map, the young generation", twelfth session).
//
//   node --expose-gc --max-semi-space-size=16 --trace-gc-nvp bench/support/map-churn.cjs one  > one.log
//   node --expose-gc --max-semi-space-size=16 --trace-gc-nvp bench/support/map-churn.cjs swap > swap.log
//   node bench/support/gc-summary.cjs one.log; node bench/support/gc-summary.cjs swap.log
//
// one:  one Map for the whole run, its table promoted first (two scavenges while it sits still);
// swap: the same, but entries go into a new Map every N adds (env N, 2048), taken from it
//       or the one before (two generations).
const mode = process.argv[2] ?? 'one';
const N = Number(process.env.N ?? 2048);
let current = new Map();
let previous = new Map();
current.set('x', {});
globalThis.gc({ type: 'minor' });
globalThis.gc({ type: 'minor' });
current.delete('x');
const inFlight = [];
const total = 400_000;
let n = 0;
function turn() {
  for (let i = 0; i < 20 && n < total; i++, n++) {
    const id = `ev${n.toString(36)}abcdefghijklmnopqrstuvwxyz`;
    const payload = { msgId: `m${n}`, seq: n, text: `${'x'.repeat(40)}${n}`, at: n * 2 };
    current.set(id, { id, type: 'message-sent', timestamp: Date.now(), payload });
    inFlight.push(id);
    if (mode === 'swap' && (n + 1) % N === 0) {
      previous = current;
      current = new Map();
    }
    if (inFlight.length > 300) {
      const old = inFlight.shift();
      if (!current.delete(old)) previous.delete(old);
    }
    const garbage = [];
    for (let j = 0; j < 30; j++) garbage.push({ j, s: `y${j}`, a: [j, j + 1, j + 2] });
  }
  if (n < total) globalThis.setImmediate(turn);
}
turn();
