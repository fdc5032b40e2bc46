/**
 * CPU time a set of processes has used (user + system, from /proc/<pid>/stat), in
 * microseconds. Taken before and after a measurement, the difference divided by the
 * work done gives CPU-µs per request or message: unlike requests per second it does
 * not move when other work on the machine takes the cores, only when the code does.
 * It counts the given processes only: a database server's own CPU (PostgreSQL,
 * MariaDB) is not in it, SQLite's is (it runs inside the easy-chat process).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticksPerSecond;
}

/** The summed user + system CPU time of `pids`, in µs (0 for a process that is gone). */
export function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1e6) / clockTicks();
}

/**
 * The CPU time of every thread of `pids`, in µs, by thread name (`main` for each
 * process's main thread, else its name in /proc: Node 20 names V8's and libuv's threads
 * `node` too, a worker_thread gets its own name); threads of one name are summed. Read
 * from `/proc/<pid>/task/<tid>/schedstat` (the scheduler's run time in ns), so unlike
 * cpuMicros it is not counted in clock ticks of 10 ms; threads that have ended are not
 * in it.
 */
export function cpuByThread(pids: number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const name =
          tid === String(pid)
            ? 'main'
            : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out.set(name, (out.get(name) ?? 0) + ns / 1000);
      } catch {
        /* the thread ended */
      }
    }
  }
  return out;
}

/**
 * Every live thread's run time of `pids`, µs to the ns, keyed `pid/tid`: a snapshot
 * for cpuFineSince, which needs to know a thread by id to tell one that ended.
 */
export function threadTimes(pids: number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        if (Number.isFinite(ns)) out.set(`${pid}/${tid}`, ns / 1000);
      } catch {
        /* the thread ended */
      }
    }
  }
  return out;
}

/**
 * The CPU time `pids` used since the snapshot `before` (threadTimes), µs to the ns, and
 * how many of its threads ended since (what they ran after `before` is not counted, so
 * the caller falls back to cpuMicros' clock ticks when `ended` is not 0). A thread
 * started since counts whole. `available` is false where /proc has no schedstat.
 */
export function cpuFineSince(
  before: Map<string, number>,
  pids: number[],
): { us: number; ended: number; available: boolean } {
  const after = threadTimes(pids);
  let us = 0;
  let ended = 0;
  for (const [key, t] of after) us += t - (before.get(key) ?? 0);
  for (const key of before.keys()) if (!after.has(key)) ended += 1;
  return { us, ended, available: after.size > 0 };
}

/** The sum of cpuByThread: the CPU time of `pids`' live threads, µs, to the ns. */
export function cpuFine(pids: number[]): number {
  let us = 0;
  for (const v of cpuByThread(pids).values()) us += v;
  return us;
}

/**
 * Waits until `pids` use less than `share` of a core over each `windowMs`, at most
 * `maxMs`: a server still working off a backlog (pushes of messages written before, a
 * broken step's queue) would be counted in the next measurement. Answers whether it
 * came to rest in time.
 */
export async function untilIdle(
  pids: () => number[],
  { share, windowMs, maxMs }: { share: number; windowMs: number; maxMs: number },
): Promise<boolean> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const before = cpuMicros(pids());
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (cpuMicros(pids()) - before < share * windowMs * 1000) return true;
  }
  return false;
}

/**
 * The machine's CPU time since boot from /proc/stat: busy and all, in clock ticks summed
 * over its CPUs (the first line), the part of busy the hypervisor took (steal), and how
 * many CPUs that sum is over (the `cpuN` lines).
 */
export function machineTicks(): { busy: number; all: number; steal: number; cores: number } {
  let lines: string[];
  try {
    lines = readFileSync('/proc/stat', 'utf8').split('\n');
  } catch {
    return { busy: 0, all: 0, steal: 0, cores: 0 };
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice: guest time is
  // already in user, so the first eight are all of it; idle and iowait (4th, 5th) are
  // not busy. Steal (8th) is time a virtual machine's CPU was ready to run and the
  // hypervisor ran another guest on it instead: busy for this machine's figures, done by
  // nobody here.
  const ticks = lines[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const all = ticks.reduce((sum, t) => sum + t, 0);
  const idle = ticks[3]! + ticks[4]!;
  const cores = lines.filter((line) => /^cpu\d/.test(line)).length;
  return { busy: all - idle, all, steal: ticks[7] ?? 0, cores };
}

/**
 * How many of the machine's cores were busy between two machineTicks readings, on
 * average (0 to the core count): every process's work, the benchmark's own included,
 * and the hypervisor's steal.
 */
export function coresBusy(
  before: { busy: number; all: number },
  after: { busy: number; all: number; cores: number },
): number {
  return coresOf(after.busy - before.busy, before, after);
}

/**
 * How many of the machine's cores the hypervisor took between two machineTicks readings,
 * on average (0 to the core count): other guests' work on this machine's CPUs. It reads
 * how noisy an hour was: a step's tail made while the hypervisor took a third of a core
 * says more about the host than about the server.
 */
export function coresStolen(
  before: { steal: number; all: number },
  after: { steal: number; all: number; cores: number },
): number {
  return coresOf(after.steal - before.steal, before, after);
}

/** `ticks` spent between two readings as cores on average; 0 when no tick passed (or no /proc). */
function coresOf(ticks: number, before: { all: number }, after: { all: number; cores: number }) {
  const all = after.all - before.all;
  return all > 0 ? (ticks / all) * after.cores : 0;
}
