/**
 * CPU time a set of processes has used (user + system, from /proc/<pid>/stat), in
 * microseconds. Taken before and after a measurement, the difference divided by the
 * work done gives CPU-µs per request or message: unlike requests per second it does
 * not move when other work on the machine takes the cores, only when the code does.
 * It counts the given processes only: a database server's own CPU (PostgreSQL,
 * MariaDB) is not in it, SQLite's is (it runs inside the easy-chat process).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
