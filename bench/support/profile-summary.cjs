// Summarizes a CPU profile (.cpuprofile) or a sampling heap profile (.heapprofile) per unit
// of work: node bench/support/profile-summary.cjs FILE UNITS [TOP=40] [--inclusive|--groups]
//   .cpuprofile: µs per unit by function (self, or with --inclusive what it and its callees
//                took, recursion counted once), idle and GC apart
//   .heapprofile: bytes allocated per unit by function (self, or --inclusive)
//   --groups:    self time (or bytes) per unit by part of a private message's path
//                (GROUPS below): each sample goes to the innermost frame of its stack that
//                a group names, so a statement's native time is "SQLite native" whoever ran
//                it, JSON.parse under the frame parse is the frame parse's, and so on
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

// Innermost match wins: the leaf's own kinds first (native SQLite, socket writes, GC), then
// the first frame up the stack that a rule names. [group, test(functionName, url)].
const GROUPS = [
  ['(idle)', (f, u) => f === '(idle)' && !u],
  ['GC', (f, u) => f === '(garbage collector)' && !u],
  ['(program)', (f, u) => f === '(program)' && !u],
  [
    'SQLite native (statements, COMMIT)',
    (f, u) => !u && /^(run|get|all|iterate|exec|prepare)$/.test(f),
  ],
  [
    'socket write (native)',
    (f, u) =>
      !u && /^(writeBuffer|writev|writeUtf8String|writeLatin1String|writeAsciiString)$/.test(f),
  ],
  ['schema checks (typebox)', (f, u) => /typebox\//.test(u)],
  ['schema checks (zod)', (f, u) => /node_modules\/zod\//.test(u)],
  ['logging', (f, u) => /pino|\/logger\.js|log-sink/.test(u)],
  ['metrics', (f, u) => /prom-client|metrics\.js|buffered-counter/.test(u)],
  [
    'frame parse (JSON.parse + frame checks)',
    (f, u) => /realtime\/frame\.js/.test(u) && f === 'parseClientFrame',
  ],
  [
    'authorize (access caches)',
    (f, u) =>
      /social-access-cache|answer-cache|chat-access|\/social\//.test(u) ||
      f === 'authorizedNow' ||
      f === 'authorize',
  ],
  [
    'event record + outbox row JS',
    (f, u) => /event-recorder|recorded-events|domain-events/.test(u) || f === 'messageSentJson',
  ],
  [
    'pair store JS (repositories, direct statements)',
    (f, u) =>
      /pair-send|conversation\.repository|message\.repository|sqlite-direct|precompiled|statement-cache|better-sqlite3\//.test(
        u,
      ),
  ],
  ['group commit + Kysely', (f, u) => /group-commit|kysely\//.test(u)],
  ['outbox relay', (f, u) => /outbox-relay|relay-lease/.test(u)],
  ['offline push consumer', (f, u) => /modules\/push\/|modules\/notify\//.test(u)],
  [
    'bus (memory broker, delivery runner, typed events)',
    (f, u) => /adapters\/bus\/|typed-events|pusher\.js|processed-events/.test(u),
  ],
  ['presence', (f, u) => /presence/.test(u)],
  [
    'fanout + push + answer encode',
    (f, u) =>
      /message-fanout|push-delivery|connection-registry|server-push|outbound-frame|realtime\/|im\.pushes|keyed-serial-queue/.test(
        u,
      ),
  ],
  ['ChatService (send, post, read state)', (f, u) => /modules\/im\//.test(u)],
  ['gateway (receive, dispatch, connection)', (f, u) => /\/gateway\//.test(u)],
  ['ws (receiver, sender)', (f, u) => /node_modules\/ws\//.test(u)],
  [
    'node streams + net (JS)',
    (f, u) =>
      /^node:(internal\/streams|net|internal\/stream_base|events|buffer|internal\/buffer)/.test(u),
  ],
  ['timers', (f, u) => /^node:internal\/timers|^node:timers/.test(u)],
  [
    'promises + microtasks (runtime)',
    (f, u) => (f === 'runMicrotasks' && !u) || /task_queues|async_hooks|promise/.test(u),
  ],
  ['ceiling script', (f, u) => /bench\/peers\//.test(u)],
  ['ids + clock', (f, u) => /shared\/(ids|clock)/.test(u)],
];
if (process.argv.includes('--groups')) {
  const parent = new Map();
  for (const [id, cs] of children) for (const c of cs) parent.set(c, id);
  const groupOf = new Map();
  const find = (id) => {
    if (groupOf.has(id)) return groupOf.get(id);
    let g = null;
    for (let at = id; at !== undefined && !g; at = parent.get(at)) {
      const cf = frames.get(at);
      const hit = GROUPS.find(([, t]) => t(cf.functionName || '', cf.url || ''));
      // No rule names a V8 builtin (JSON.parse, stringify, a Map's get): its caller's group.
      if (hit) g = hit[0];
    }
    g = g || 'other JS';
    groupOf.set(id, g);
    return g;
  };
  const groups = new Map();
  const leaf = new Map();
  for (const [id, v] of self) {
    if (!v) continue;
    const g = find(id);
    groups.set(g, (groups.get(g) || 0) + v);
    const lk = `${g} | ${key(frames.get(id))}`;
    leaf.set(lk, (leaf.get(lk) || 0) + v);
  }
  const u = heap ? 'B' : 'µs';
  const idleG = groups.get('(idle)') || 0;
  console.log(`${file}: ${units} units; busy ${((total - idleG) / units).toFixed(1)} ${u}/unit`);
  for (const [g, v] of [...groups].sort((a, b) => b[1] - a[1]))
    console.log(`${(v / units).toFixed(heap ? 0 : 2).padStart(9)} ${u}  ${g}`);
  if (process.argv.includes('--detail')) {
    console.log('--- top self entries by group');
    for (const [k, v] of [...leaf].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${(v / units).toFixed(heap ? 0 : 2).padStart(9)} ${u}  ${k}`);
  }
  process.exit(0);
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
