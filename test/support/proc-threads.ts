import { readdirSync, readFileSync } from 'node:fs';

/** Every thread of a process, by its /proc/<pid>/task/<tid> directory (Linux only). */
function threadDirs(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => `/proc/${pid}/task/${tid}`);
}

/** The niceness of every thread of a process (field 19 of each thread's stat). */
export function threadNiceness(pid: number): number[] {
  return threadDirs(pid).map((dir) => {
    const stat = readFileSync(`${dir}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  });
}

/** The cores every thread of a process may run on (Cpus_allowed_list of its status). */
export function threadCpus(pid: number | 'self'): string[] {
  const dirs = pid === 'self' ? ['/proc/self'] : threadDirs(pid);
  return dirs.map(
    (dir) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`${dir}/status`, 'utf8'))![1]!,
  );
}
