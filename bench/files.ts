/**
 * Upload throughput of `POST /v1/files` (disk storage, SQLite) and the server CPU it
 * costs per MiB, against a ceiling measured in the same run: a bare Node HTTP
 * server that streams the same request bodies to disk, fsyncs and renames
 * (bench/peers/stream-to-disk.ts). Both are processes of their own on loopback;
 * this process sends the same multipart bodies (built by the SDK's multipartBody)
 * to both, rounds alternating between them, and reports medians with their range.
 * Server CPU is the process's user + system time from /proc, so the client's work
 * is never counted. Then ten 25 MiB uploads at once: the server's peak resident
 * memory over its idle size (an upload is streamed, never held in memory).
 *
 *   npm run bench:files   BENCH_FILE_MIB=4 BENCH_FILES=16 BENCH_PARALLEL=4 BENCH_ROUNDS=3
 *                         BENCH_BURST=10 BENCH_BURST_MIB=25
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multipartBody } from '@easy-chat/sdk';
import { rssOf } from './support/rss.js';
import {
  envNumber,
  isMain,
  log,
  main,
  onCleanup,
  sleep,
  withProgress,
  writeResult,
} from './support/run.js';
import { cpuMicros } from './support/cpu.js';
import { freePort, startServer } from './support/server-process.js';

const MiB = 1024 * 1024;
const root = new URL('..', import.meta.url).pathname;

export interface FilesOptions {
  /** Size of each file of the throughput rounds. */
  fileMiB: number;
  /** Files per round. */
  files: number;
  /** Uploads in flight at once. */
  parallel: number;
  rounds: number;
  /** Uploads at once of the memory burst, and their size. */
  burst: number;
  burstMiB: number;
}

interface Run {
  seconds: number;
  mibPerSec: number;
  cpuUsPerMiB: number;
}

export interface Figure {
  median: number;
  min: number;
  max: number;
}

export interface FilesResult {
  options: FilesOptions;
  easyChat: { mibPerSec: Figure; cpuUsPerMiB: Figure; burst: Burst };
  ceiling: { mibPerSec: Figure; cpuUsPerMiB: Figure; burst: Burst };
}

interface Burst {
  idleMiB: number;
  peakMiB: number;
}

interface Target {
  label: string;
  url: string;
  pid: number;
  headers: Record<string, string>;
  /** What a stored upload answers as its size (the file, or the whole body). */
  expectSize: (fileBytes: number, bodyBytes: number) => number;
}

function figure(values: number[]): Figure {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)]!,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** Uploads `count` copies of one file, `parallel` at a time; measures wall time and server CPU. */
async function uploadRound(
  target: Target,
  file: Buffer,
  count: number,
  parallel: number,
): Promise<Run> {
  const { body, boundary } = multipartBody(file, 'bench.bin');
  const headers = {
    ...target.headers,
    'content-type': `multipart/form-data; boundary=${boundary}`,
  };
  const expected = target.expectSize(file.length, body.size);
  let started = 0;
  const cpuBefore = cpuMicros([target.pid]);
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (started < count) {
        started += 1;
        const res = await fetch(target.url, { method: 'POST', headers, body });
        const text = await res.text();
        const size = res.ok ? (JSON.parse(text) as { data?: { size?: number } }).data?.size : -1;
        if (size !== expected) {
          throw new Error(`${target.label}: upload answered ${res.status} ${text.slice(0, 200)}`);
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuMicros([target.pid]) - cpuBefore;
  const mib = (count * file.length) / MiB;
  return { seconds, mibPerSec: mib / seconds, cpuUsPerMiB: cpu / mib };
}

/** `count` uploads of `mib` MiB at once; the server's resident memory, idle and at its peak. */
async function burst(target: Target, count: number, mib: number): Promise<Burst> {
  const idle = rssOf(target.pid);
  let peak = idle;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(target.pid));
    } catch {
      /* the process is gone: the round fails on its own */
    }
  }, 20);
  try {
    await uploadRound(target, randomBytes(Math.round(mib * MiB)), count, count);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rssOf(target.pid));
  return { idleMiB: idle / MiB, peakMiB: peak / MiB };
}

async function startEasyChat(options: FilesOptions): Promise<Target> {
  const largest = Math.ceil(Math.max(options.fileMiB, options.burstMiB) * MiB);
  const server = await startServer({
    EC_FILES__MAX_BYTES: String(largest),
    EC_FILES__QUOTA_BYTES: String(1024 * 1024 * MiB),
  });
  onCleanup(() => server.stop());
  const res = await fetch(`${server.url}/v1/user/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: '13800000001', password: 'bench-password-1', nickname: 'b' }),
  });
  const { data } = (await res.json()) as { data: { token: string } };
  return {
    label: 'easy-chat',
    url: `${server.url}/v1/files`,
    pid: server.child.pid!,
    headers: { authorization: `Bearer ${data.token}` },
    expectSize: (fileBytes) => fileBytes,
  };
}

async function startCeiling(): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'easy-chat-bench-disk-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/peers/stream-to-disk.ts', String(port), dir],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`stream-to-disk exited with ${code}`)));
  });
  return {
    label: 'stream to disk',
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid!,
    headers: {},
    expectSize: (_fileBytes, bodyBytes) => bodyBytes,
  };
}

export async function runFiles(options: FilesOptions): Promise<FilesResult> {
  const easyChat = await startEasyChat(options);
  const ceiling = await startCeiling();
  const file = randomBytes(Math.round(options.fileMiB * MiB));
  const runs = new Map<Target, Run[]>([
    [easyChat, []],
    [ceiling, []],
  ]);
  // Warm-up, not counted: JIT, the database's first writes, the page cache.
  for (const target of [easyChat, ceiling]) {
    await uploadRound(target, file, Math.min(4, options.files), options.parallel);
  }
  let done = 0;
  await withProgress(
    'files',
    () => `${done}/${options.rounds * 2} runs`,
    async () => {
      for (let round = 0; round < options.rounds; round += 1) {
        // Alternating order: drift of the machine hits both alike.
        const order = round % 2 === 0 ? [easyChat, ceiling] : [ceiling, easyChat];
        for (const target of order) {
          runs.get(target)!.push(await uploadRound(target, file, options.files, options.parallel));
          done += 1;
          await sleep(200);
        }
      }
    },
  );
  const bursts = new Map<Target, Burst>();
  for (const target of [easyChat, ceiling]) {
    bursts.set(target, await burst(target, options.burst, options.burstMiB));
  }
  const summary = (target: Target) => ({
    mibPerSec: figure(runs.get(target)!.map((r) => r.mibPerSec)),
    cpuUsPerMiB: figure(runs.get(target)!.map((r) => r.cpuUsPerMiB)),
    burst: bursts.get(target)!,
  });
  return { options, easyChat: summary(easyChat), ceiling: summary(ceiling) };
}

export function describeFiles(r: FilesResult): string {
  const o = r.options;
  const fmt = (f: Figure, digits = 0) =>
    `${f.median.toFixed(digits)} (${f.min.toFixed(digits)}–${f.max.toFixed(digits)})`;
  const row = (label: string, s: FilesResult['easyChat']) =>
    `| ${label} | ${fmt(s.mibPerSec, 1)} | ${fmt(s.cpuUsPerMiB)} | ${s.burst.idleMiB.toFixed(0)} → ${s.burst.peakMiB.toFixed(0)} (+${(s.burst.peakMiB - s.burst.idleMiB).toFixed(0)}) |`;
  return [
    `${o.files} × ${o.fileMiB} MiB per round, ${o.parallel} in parallel, ${o.rounds} rounds alternating; medians (range)`,
    `burst: ${o.burst} × ${o.burstMiB} MiB at once`,
    '',
    '| server | MiB/s | server CPU-µs per MiB | RSS MiB idle → peak in the burst |',
    '| --- | --- | --- | --- |',
    row('easy-chat `POST /v1/files` (disk, SQLite)', r.easyChat),
    row('ceiling: stream to disk, fsync, rename', r.ceiling),
    '',
    `easy-chat / ceiling: throughput ${(r.easyChat.mibPerSec.median / r.ceiling.mibPerSec.median).toFixed(2)}×, ` +
      `CPU per MiB ${(r.easyChat.cpuUsPerMiB.median / Math.max(1, r.ceiling.cpuUsPerMiB.median)).toFixed(2)}×`,
  ].join('\n');
}

if (isMain(import.meta)) {
  main(async () => {
    const options: FilesOptions = {
      fileMiB: envNumber('BENCH_FILE_MIB', 4),
      files: envNumber('BENCH_FILES', 16),
      parallel: envNumber('BENCH_PARALLEL', 4),
      rounds: envNumber('BENCH_ROUNDS', 3),
      burst: envNumber('BENCH_BURST', 10),
      burstMiB: envNumber('BENCH_BURST_MIB', 25),
    };
    log('bench:files', JSON.stringify(options));
    const result = await runFiles(options);
    writeResult('files', result);
    console.log(describeFiles(result));
  });
}
