import { fork, type ChildProcess } from 'node:child_process';
import type { DriverName } from './drivers.js';
import { envNodeArgs } from './server-process.js';
import { pinnedLaunch } from './cpu-pinning.js';
import { envNumber } from './run.js';

/** A load-generator child process driven over IPC (see ws-worker.ts). */
export class Worker {
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (v: any) => void; reject: (e: Error) => void }
  >();
  /** Latest progress the worker reported (counts while a command runs). */
  progress: Record<string, number> = {};

  private constructor(readonly child: ChildProcess) {
    child.on(
      'message',
      (m: { id?: number; result?: unknown; error?: string; progress?: Record<string, number> }) => {
        if (m.progress) {
          this.progress = m.progress;
          return;
        }
        const w = this.waiting.get(m.id!);
        if (!w) return;
        this.waiting.delete(m.id!);
        if (m.error) w.reject(new Error(m.error));
        else w.resolve(m.result);
      },
    );
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${code})`));
      this.waiting.clear();
    });
  }

  static start(): Worker {
    // Started through nice(1) when BENCH_GENERATOR_NICE is set, and through taskset(1)
    // when BENCH_GENERATOR_CPUS is, so that every thread of the generator (V8's, made at
    // start, included) runs at that niceness, on those cores.
    const nice = generatorNice();
    const throughNice = nice > 0 ? ['-n', String(nice), process.execPath] : [];
    const launch = pinnedLaunch('BENCH_GENERATOR_CPUS', nice > 0 ? 'nice' : process.execPath);
    const child = fork(new URL('./ws-worker.ts', import.meta.url).pathname, [], {
      execPath: launch.command,
      // Node flags for the generators, e.g. BENCH_GENERATOR_NODE_ARGS="--cpu-prof". A larger
      // young generation (--max-semi-space-size=64) was tried: its scavenges pause the
      // generators longer, and every p99 read worse (docs/performance-log.md, "The tail by
      // rate, beside the ceiling").
      execArgv: [
        ...launch.prefix,
        ...throughNice,
        '--import',
        'tsx',
        '--max-old-space-size=4096',
        ...envNodeArgs('BENCH_GENERATOR_NODE_ARGS'),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Worker(child);
  }

  run<T = any>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error('load generator is gone'));
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.run('close').catch(() => undefined);
    await exited;
    clearTimeout(timeout);
  }
}

/**
 * BENCH_GENERATOR_NICE: the niceness the load generators run at, 0 (the servers') by
 * default. On two cores the generators take about half a core from the servers they
 * measure; a niceness of 10 lets a server's thread that wakes take the core first, as if
 * the clients were on machines of their own. Measured on 5 December 2026 it did not
 * lower any p99 beyond the rounds' spread (docs/performance-log.md, "The load generators
 * at nice 10").
 */
export function generatorNice(): number {
  const nice = envNumber('BENCH_GENERATOR_NICE', 0);
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
    throw new Error(`BENCH_GENERATOR_NICE=${nice} is not a niceness from 0 to 19`);
  }
  return nice;
}

/** Several load generators used together. */
export class Pool {
  readonly workers: Worker[];
  constructor(count: number) {
    this.workers = Array.from({ length: count }, () => Worker.start());
  }
  get size() {
    return this.workers.length;
  }
  setup(driver: DriverName) {
    return this.all('setup', () => ({ driver }));
  }
  all<T = any>(cmd: string, args: (i: number) => Record<string, unknown> = () => ({})) {
    return Promise.all(this.workers.map((w, i) => w.run<T>(cmd, args(i))));
  }
  /** Sum of one progress counter over every worker. */
  total(key: string): number {
    return this.workers.reduce((n, w) => n + (w.progress[key] ?? 0), 0);
  }
  stop() {
    return Promise.all(this.workers.map((w) => w.stop()));
  }
}

export function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => out[i % parts]!.push(item));
  return out;
}

/**
 * The largest of many values: `Math.max(...values)` passes each as an argument, and
 * a round's samples (over 100,000 at a fast host's capacity) overflow the stack.
 */
export function largest(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  return values.length === 0 ? Number.NaN : max;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
