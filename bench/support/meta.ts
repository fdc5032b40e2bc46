/** The machine and versions a result was measured with. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { coresStolen, machineTicks } from './cpu.js';

export interface Meta {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the run started and ended (other engineers share the machine). */
  loadBefore: number;
  loadAfter?: number;
  /** /proc/stat's steal and all ticks when the run started (finishRun reads them again). */
  ticksBefore?: { steal: number; all: number };
  /**
   * The cores the hypervisor took for other guests on average through the run (0 to
   * `cores`): on a virtual machine, how noisy the host was while the figures were made.
   */
  coresStolen?: number;
  commit: string;
  versions: Record<string, string>;
}

const root = new URL('../..', import.meta.url).pathname;

function quiet(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'not installed';
  }
}

const npmVersion = (name: string) => {
  try {
    return (
      JSON.parse(readFileSync(`${root}node_modules/${name}/package.json`, 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'not installed';
  }
};

export function machine(): Meta {
  const { steal, all } = machineTicks();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadBefore: loadavg()[0]!,
    ticksBefore: { steal, all },
    commit: quiet('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    versions: {
      'easy-chat': npmVersionOfRoot(),
      ejabberd: quiet('dpkg-query', ['-W', '-f=${Version}', 'ejabberd']),
      'socket.io': npmVersion('socket.io'),
      '@socket.io/redis-adapter': npmVersion('@socket.io/redis-adapter'),
      ws: npmVersion('ws'),
      PostgreSQL: quiet('dpkg-query', ['-W', '-f=${Version}', 'postgresql-15']),
      Redis: quiet('dpkg-query', ['-W', '-f=${Version}', 'redis-server']),
      'better-sqlite3': npmVersion('better-sqlite3'),
      autocannon: npmVersion('autocannon'),
    },
  };
}

/** The run is over: the load average and the cores stolen since machine() go into `meta`. */
export function finishRun(meta: Meta): void {
  meta.loadAfter = loadavg()[0]!;
  if (meta.ticksBefore) meta.coresStolen = coresStolen(meta.ticksBefore, machineTicks());
}

function npmVersionOfRoot(): string {
  return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
}
