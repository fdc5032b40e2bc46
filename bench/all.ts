/**
 * Every scenario in turn, each in its own process (so one's leftovers cannot skew the
 * next), then BENCHMARKS.md. `npm run bench:all`; BENCH_ONLY=idle,group runs a subset.
 */
import { spawn } from 'node:child_process';
import { log } from './support/run.js';

const scripts = ['idle', 'private-chat', 'group', 'reconnect-storm', 'history'];
const only = process.env.BENCH_ONLY?.split(',');

let child: ReturnType<typeof spawn> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    child?.kill(signal);
  });

let failed = 0;
for (const script of scripts) {
  if (only && !only.includes(script)) continue;
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
process.exit(failed ? 1 : 0);
