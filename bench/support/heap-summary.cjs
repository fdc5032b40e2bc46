// What a heap snapshot holds, for finding what a server keeps alive that it need not:
//
//   node --max-old-space-size=4000 bench/support/heap-summary.cjs FILE.heapsnapshot [ROWS]
//
// prints (1) self size by constructor or kind, (2) the scripts' source text by package
// (V8 keeps every loaded module's source for lazy compilation: a rough measure of what a
// package brought in), (3) the objects retaining the most (dominator tree: what would be
// freed with them). Snapshots of a benchmark's server: BENCH_PROBE_SIGNAL=1 and
// BENCH_SERVER_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR" with
// bench/cpu-per-message.ts (one at the round's start, one at its end; a snapshot collects
// garbage first, so it holds what is live).
'use strict';
const { readFileSync } = require('node:fs');

const [file, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg ?? 30);
const snap = JSON.parse(readFileSync(file, 'utf8'));
const { meta } = snap.snapshot;
const { nodes, edges, strings } = snap;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const [T, NAME, SELF, EDGES] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
  meta.node_fields.indexOf(f),
);
const N = nodes.length / NF;
const first = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) {
  first[i] = e;
  e += nodes[i * NF + EDGES] * EF;
}
first[N] = edges.length;
const type = (i) => nodeTypes[nodes[i * NF + T]];
const name = (i) => String(strings[nodes[i * NF + NAME]]);
const self = (i) => nodes[i * NF + SELF];
const target = (e) => edges[e + 2] / NF;
const skipped = (e) => ['weak', 'shortcut'].includes(edgeTypes[edges[e]]);
const label = (i) => {
  const t = type(i);
  if (t.includes('string')) return 'string';
  if (['object', 'closure', 'native', 'hidden', 'array', 'code'].includes(t))
    return `${t}:${name(i).slice(0, 60)}`;
  return t;
};
const mb = (b) => (b / 1e6).toFixed(2).padStart(7);
const table = (title, map) => {
  console.log(`\n== ${title}`);
  for (const [key, [size, count]] of [...map].sort((a, b) => b[1][0] - a[1][0]).slice(0, rows))
    console.log(mb(size), String(count).padStart(8), key);
};
const add = (map, key, size) => {
  const row = map.get(key) ?? [0, 0];
  row[0] += size;
  row[1] += 1;
  map.set(key, row);
};

let total = 0;
const bySelf = new Map();
for (let i = 0; i < N; i++) {
  total += self(i);
  add(bySelf, label(i), self(i));
}
console.log(`${N} objects, ${mb(total)} MB`);
table('self size by constructor or kind (MB, count)', bySelf);

const bySource = new Map();
const seen = new Set();
for (let i = 0; i < N; i++) {
  if (type(i) !== 'code') continue;
  for (let e = first[i]; e < first[i + 1]; e += EF) {
    const to = target(e);
    if (strings[edges[e + 1]] !== 'source' || seen.has(to) || !type(to).includes('string'))
      continue;
    seen.add(to);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(name(i))?.[1];
    add(
      bySource,
      pkg ?? (name(i).includes('/dist/') ? '(the app)' : '(node and others)'),
      self(to),
    );
  }
}
table('loaded scripts’ source text by package (MB, scripts)', bySource);

// Dominators (Cooper, Harvey and Kennedy's iteration) from the root, node 0.
const order = new Int32Array(N).fill(-1);
const post = [];
const stack = [0];
const cursor = [first[0]];
order[0] = -2;
while (stack.length > 0) {
  const v = stack[stack.length - 1];
  let e = cursor[cursor.length - 1];
  while (e < first[v + 1] && (skipped(e) || order[target(e)] !== -1)) e += EF;
  if (e < first[v + 1]) {
    cursor[cursor.length - 1] = e + EF;
    order[target(e)] = -2;
    stack.push(target(e));
    cursor.push(first[target(e)]);
  } else {
    stack.pop();
    cursor.pop();
    order[v] = post.length;
    post.push(v);
  }
}
const preds = Array.from({ length: N }, () => []);
for (const v of post)
  for (let e = first[v]; e < first[v + 1]; e += EF) if (!skipped(e)) preds[target(e)].push(v);
const idom = new Int32Array(N).fill(-1);
idom[0] = 0;
for (let changed = true; changed;) {
  changed = false;
  for (let k = post.length - 2; k >= 0; k--) {
    const b = post[k];
    let d = -1;
    for (const p of preds[b]) {
      if (idom[p] === -1) continue;
      if (d === -1) {
        d = p;
        continue;
      }
      let [x, y] = [p, d];
      while (x !== y) {
        while (order[x] < order[y]) x = idom[x];
        while (order[y] < order[x]) y = idom[y];
      }
      d = x;
    }
    if (d !== -1 && idom[b] !== d) {
      idom[b] = d;
      changed = true;
    }
  }
}
const retained = new Float64Array(N);
for (const v of post) {
  retained[v] += self(v);
  if (v !== 0) retained[idom[v]] += retained[v];
}
console.log('\n== retaining the most (MB retained, object, held by)');
const largest = post.filter((v) => v !== 0 && type(v) !== 'synthetic');
largest.sort((a, b) => retained[b] - retained[a]);
for (const v of largest.slice(0, rows))
  console.log(mb(retained[v]), label(v), ' <', label(idom[v]), '<', label(idom[idom[v]]));
