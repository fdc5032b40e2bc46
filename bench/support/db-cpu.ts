/**
 * CPU time of the database server's processes that work for one easy-chat process, so a
 * figure per message can add them to the Node process's own (SQLite runs inside it).
 *
 * PostgreSQL runs a process per connection. Counting every `postgres` process would add
 * whatever other clients of the shared server do meanwhile (other sessions' test suites,
 * and the WAL writer, checkpointer and background writer working for all of them), so
 * only the backends whose client port belongs to a socket of the measured Node process
 * count (a backend's command line names its client: `postgres: user db
 * 127.0.0.1(54321) idle`). A backend reached over PostgreSQL's Unix socket names no port
 * (`postgres: user db [local] idle`): it counts when one of its sockets is the peer of
 * one of the Node process's, as `ss -x` pairs them (without `ss` such backends are not
 * found, and a warning says so). They do the work of each statement and, at commit,
 * flush the WAL themselves; the helpers' share for one client is small but not in the
 * figure. MariaDB/MySQL is one process with a thread per connection: it counts whole.
 */
import { execFileSync } from 'node:child_process';
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

/** Inodes of the sockets `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}

/** Local TCP ports of the sockets `pid` holds open (IPv4 and IPv6). */
function localPorts(pid: number): Set<number> {
  const inodes = socketInodes(pid);
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
  const postgres = processesNamed(['postgres']);
  const overTcp = postgres.filter((p) => {
    const client = /\((\d+)\)/.exec(p.cmdline);
    return client !== null && ours.has(Number(client[1]));
  });
  const local = postgres.filter((p) => p.cmdline.includes('[local]'));
  return [...overTcp, ...(local.length > 0 ? peersOf(nodePids, local) : [])].map((p) => p.pid);
}

/**
 * Of `backends`, those holding the far end of a Unix socket of `nodePids`. /proc does not
 * pair a Unix socket with its peer; `ss -x` does (each row: its inode, then its peer's).
 */
function peersOf<P extends { pid: number }>(nodePids: number[], backends: P[]): P[] {
  const peerOf = unixPeers();
  if (!peerOf) return [];
  const theirs = new Set<string>();
  for (const pid of nodePids) {
    for (const inode of socketInodes(pid)) {
      const peer = peerOf.get(inode);
      if (peer) theirs.add(peer);
    }
  }
  return backends.filter((b) => [...socketInodes(b.pid)].some((inode) => theirs.has(inode)));
}

let warnedNoSs = false;

/** Each connected Unix stream socket's inode → its peer's, from `ss -x`; undefined without ss. */
function unixPeers(): Map<string, string> | undefined {
  let out: string;
  try {
    out = execFileSync('ss', ['-x', '-H', 'state', 'connected'], { encoding: 'utf8' });
  } catch {
    if (!warnedNoSs) {
      warnedNoSs = true;
      console.warn('db-cpu: no `ss` (iproute2): backends on the Unix socket are not counted');
    }
    return undefined;
  }
  const peers = new Map<string, string>();
  for (const line of out.split('\n')) {
    // Netid, (State), Recv-Q, Send-Q, local address, its inode, peer address, its inode.
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const inode = cols[cols.length - 3]!;
    const peer = cols[cols.length - 1]!;
    if (/^\d+$/.test(inode) && /^\d+$/.test(peer)) peers.set(inode, peer);
  }
  return peers;
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
