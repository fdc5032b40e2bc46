/**
 * CPU time of the database server's processes that work for one easy-chat process, so a
 * figure per message can add them to the Node process's own (SQLite runs inside it).
 *
 * PostgreSQL runs a process per connection. Counting every `postgres` process would add
 * whatever other clients of the shared server do meanwhile (other sessions' test suites,
 * and the WAL writer, checkpointer and background writer working for all of them), so
 * only the backends whose client port belongs to a socket of the measured Node process
 * count (a backend's command line names its client: `postgres: user db
 * 127.0.0.1(54321) idle`). They do the work of each statement and, at commit, flush the
 * WAL themselves; the helpers' share for one client is small but not in the figure.
 * MariaDB/MySQL is one process with a thread per connection: it counts whole.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpuFine, cpuMicros } from './cpu.js';

export type DatabaseServer = 'sqlite' | 'postgres' | 'mysql';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Local TCP ports of the sockets `pid` holds open (IPv4 and IPv6). */
function localPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return new Set();
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of (read(`/proc/${pid}/net/${table}`) ?? '').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is cols[1] ("0100007F:D431"); the inode is cols[9].
      if (cols.length > 9 && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Processes whose /proc/<pid>/comm is one of `names`, with their command lines. */
function processesNamed(names: string[]): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = read(`/proc/${entry}/comm`)?.trim();
    if (comm && names.includes(comm))
      found.push({
        pid: Number(entry),
        cmdline: (read(`/proc/${entry}/cmdline`) ?? '').replace(/\0/g, ' '),
      });
  }
  return found;
}

/**
 * The database server processes that work for the Node processes `nodePids`: see the
 * module comment. Empty for SQLite.
 */
export function databasePids(server: DatabaseServer, nodePids: number[]): number[] {
  if (server === 'sqlite') return [];
  if (server === 'mysql') return processesNamed(['mariadbd', 'mysqld']).map((p) => p.pid);
  const ours = new Set(nodePids.flatMap((pid) => [...localPorts(pid)]));
  return processesNamed(['postgres'])
    .filter((p) => {
      const client = /\((\d+)\)/.exec(p.cmdline);
      return client !== null && ours.has(Number(client[1]));
    })
    .map((p) => p.pid);
}

/** CPU-µs of each process. */
export function cpuEach(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuMicros([pid])]));
}

/**
 * CPU-µs used since `before` by the processes `now`: one that ended meanwhile drops out
 * instead of making the sum negative; one that started meanwhile counts whole.
 */
export function cpuSince(before: Map<number, number>, now: number[]): number {
  let sum = 0;
  for (const [pid, us] of cpuEach(now)) sum += us - (before.get(pid) ?? 0);
  return sum;
}

/**
 * CPU-µs so far, to the ns, of these Node processes and of the database server's
 * processes working for them (databasePids): a server's whole cost of a unit of work.
 */
export function cpuWithDatabase(server: DatabaseServer, nodePids: number[]): number {
  return cpuFine([...nodePids, ...databasePids(server, nodePids)]);
}
