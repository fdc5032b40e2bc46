/**
 * Which cores a benchmark's processes may run on: BENCH_SERVER_CPUS for easy-chat's
 * servers (startServer) and the chat ceilings (startCeilingChat; not the other peers),
 * BENCH_GENERATOR_CPUS for the load generators,
 * each a taskset(1) list ("0", "1", "0-3", "0,2"). Unset, a process runs where the
 * kernel puts it, as before.
 *
 * On the two shared cores the servers, their database and the load generators take
 * turns on the same cores, so a server's tail holds the others' turns as well as its own
 * stalls. `BENCH_SERVER_CPUS=0 BENCH_GENERATOR_CPUS=1` (PostgreSQL started on core 1 too:
 * `taskset -c 1 pg_ctl start`) gives each server a core of its own: the nearest this
 * machine comes to the clients and the database on other machines. On 6 December 2026
 * that made every tail longer, easy-chat's most: the database's core, shared with the
 * generators, ran out first (docs/performance-log.md, "A core of its own, and the outbox
 * without its deletes").
 *
 * A process is started through taskset, so every thread it ever has (V8's, made at
 * start, and libuv's) inherits the list.
 */
export interface Launch {
  command: string;
  /** What goes before the process's own arguments (taskset's, then node's path). */
  prefix: string[];
}

export function pinnedLaunch(envName: string, execPath: string): Launch {
  const cpus = cpuList(envName);
  return cpus === undefined
    ? { command: execPath, prefix: [] }
    : { command: 'taskset', prefix: ['-c', cpus, execPath] };
}

/** The env's core list, checked: undefined when unset or empty. */
export function cpuList(envName: string): string | undefined {
  const value = process.env[envName]?.trim();
  if (!value) return undefined;
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) {
    throw new Error(`${envName}=${value} is not a core list such as 0, 1-3 or 0,2`);
  }
  return value;
}
