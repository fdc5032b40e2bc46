/**
 * Every scenario in turn, each in its own process (so one's leftovers cannot skew the
 * next), then BENCHMARKS.md. `npm run bench:all`; BENCH_ONLY=idle,group runs a subset.
 */
import { spawn } from 'node:child_process';
import { log } from './support/run.js';

const scripts = ['idle', 'group', 'private-chat', 'reconnect-storm', 'history'];
const only = process.env.BENCH_ONLY?.split(',');

let child: ReturnType<typeof spawn> | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    // The running scenario stops what it started; no further scenario starts.
    stopping = true;
    child?.kill(signal);
  });

let failed = 0;
for (const script of scripts) {
  if (only && !only.includes(script)) continue;
  if (stopping) break;
  log(`== ${script}`);
  const code = await new Promise<number | null>((resolve) => {
    child = spawn(process.execPath, ['--import', 'tsx', `bench/${script}.ts`], {
      stdio: 'inherit',
    });
    child.on('exit', (c) => resolve(c));
  });
  if (code !== 0) {
    failed += 1;
    log(`${script} failed (${code})`);
  }
}
process.exit(failed || stopping ? 1 : 0);
