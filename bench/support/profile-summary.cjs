// Summarizes a CPU profile (.cpuprofile) or a sampling heap profile (.heapprofile) per unit
// of work: node bench/support/profile-summary.cjs FILE UNITS [TOP=40] [--inclusive]
//   .cpuprofile: µs per unit by function (self, or with --inclusive what it and its callees
//                took, recursion counted once), idle and GC apart
//   .heapprofile: bytes allocated per unit by function (self, or --inclusive)
// Functions are named `name file:line`; the samples' program/idle/GC rows as V8 names them.
'use strict';
const { readFileSync } = require('node:fs');

const [file, unitsArg, topArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const inclusive = process.argv.includes('--inclusive');
const units = Number(unitsArg || 1);
const top = Number(topArg || 40);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const heap = file.endsWith('.heapprofile');

const key = (cf) => {
  const url = (cf.url || '').replace(/^.*\/(src|dist|node_modules)\//, '$1/');
  return `${cf.functionName || '(anonymous)'} ${url}${url ? `:${cf.lineNumber + 1}` : ''}`;
};

// Self value per node id, and the tree.
const self = new Map();
const children = new Map();
const frames = new Map();
let total = 0;
if (heap) {
  const walk = (node) => {
    frames.set(node.id, node.callFrame);
    const bytes = node.selfSize || 0;
    self.set(node.id, bytes);
    total += bytes;
    children.set(
      node.id,
      (node.children || []).map((c) => c.id),
    );
    for (const c of node.children || []) walk(c);
  };
  walk(profile.head);
} else {
  for (const node of profile.nodes) {
    frames.set(node.id, node.callFrame);
    children.set(node.id, node.children || []);
    self.set(node.id, 0);
  }
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const us = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    self.set(samples[i], self.get(samples[i]) + us);
    total += us;
  }
}
const root = heap ? profile.head.id : profile.nodes[0].id;

const byKey = new Map();
const add = (k, v) => byKey.set(k, (byKey.get(k) || 0) + v);
if (inclusive) {
  const sub = (id) => {
    let s = self.get(id);
    for (const c of children.get(id)) s += sub(c);
    return s;
  };
  const visit = (id, onStack) => {
    const k = key(frames.get(id));
    if (!onStack.has(k)) add(k, sub(id));
    const next = new Set(onStack).add(k);
    for (const c of children.get(id)) visit(c, next);
  };
  visit(root, new Set());
} else {
  for (const [id, v] of self) add(key(frames.get(id)), v);
}

const unit = heap ? 'B' : 'µs';
const idle = byKey.get('(idle) ') || 0;
console.log(
  `${file}: ${units} units; total ${(total / units).toFixed(1)} ${unit}/unit` +
    (heap
      ? ''
      : `, busy ${((total - idle) / units).toFixed(1)} µs/unit (idle ${(idle / units).toFixed(1)})`),
);
const rows = [...byKey].sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [k, v] of rows)
  console.log(`${(v / units).toFixed(heap ? 0 : 2).padStart(9)} ${unit}  ${k}`);
